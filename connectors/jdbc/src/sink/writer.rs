//! Turns a batch of sink records into SQL and runs it in one transaction.
//!
//! 1. [`plan`] (pure): each record becomes a row of cells for its table; consecutive records for
//!    the same table, columns and operation (write or delete) form one [`Batch`]. Data errors
//!    (a missing pk field, a tombstone without `delete.enabled`) surface here, before any SQL.
//! 2. [`Writer::write`]: CREATE/ALTER what `auto.create`/`auto.evolve` allow (DDL outside the
//!    transaction: MySQL commits DDL implicitly), then BEGIN, one multi-row statement per
//!    `batch.size` rows (COPY for PostgreSQL inserts), COMMIT. Upserts and deletes keep the last
//!    record per key within a batch, since one statement may not touch a row twice.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use ferry_api::{ConnectError, Result, SchemaRef, SinkRecord};

use super::fields::Fields;
use crate::config::{InsertMode, SinkSettings, DELETE_ENABLED, PK_MODE};
use crate::db::Db;
use crate::dialect::TableId;
use crate::sql::{self, ColumnDef};
use crate::types::Cell;
use crate::url::DbKind;

/// Most bind parameters one statement may carry (both databases count them in 16 bits).
const MAX_PARAMS: usize = 65_535;

/// Most bytes of cell data in one statement: well under MySQL's default `max_allowed_packet`
/// (16 MiB in MariaDB, 64 MiB in MySQL 8), so wide rows never make a batch fail.
const MAX_STATEMENT_BYTES: usize = 4 << 20;

/// A rough size of a row on the wire.
fn row_bytes(row: &[Cell]) -> usize {
    row.iter()
        .map(|c| match c {
            Cell::Text(s) => s.len() + 4,
            Cell::Bytes(b) => b.len() + 4,
            _ => 12,
        })
        .sum()
}

/// Splits `rows` into runs of at most `max_rows` rows and about `MAX_STATEMENT_BYTES` bytes
/// (always at least one row).
fn chunks<R: AsRef<[Cell]>>(rows: &[R], max_rows: usize) -> Vec<&[R]> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, r) in rows.iter().enumerate() {
        let size = row_bytes(r.as_ref());
        if i > start && (i - start >= max_rows || bytes + size > MAX_STATEMENT_BYTES) {
            out.push(&rows[start..i]);
            start = i;
            bytes = 0;
        }
        bytes += size;
    }
    if start < rows.len() {
        out.push(&rows[start..]);
    }
    out
}

/// What a batch does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    /// Insert, upsert or update per `insert.mode`.
    Write,
    /// Delete by key (tombstones with `delete.enabled`).
    Delete,
}

/// Consecutive rows for one table with the same columns and operation.
#[derive(Debug)]
pub(crate) struct Batch {
    pub(crate) table: String,
    pub(crate) fields: Arc<Fields>,
    pub(crate) op: Op,
    pub(crate) rows: Vec<Vec<Cell>>,
}

/// Remembers the last column layout per (table, key schema, value schema), so the layout is
/// worked out once per schema rather than per record.
#[derive(Debug, Default)]
pub(crate) struct FieldsCache {
    entries: Vec<CacheEntry>,
}

/// (table, key schema, value schema) → layout.
type CacheEntry = (String, Option<SchemaRef>, Option<SchemaRef>, Arc<Fields>);

fn same(a: &Option<SchemaRef>, b: Option<&SchemaRef>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => Arc::ptr_eq(a, b) || a == b,
        _ => false,
    }
}

impl FieldsCache {
    fn get(
        &mut self,
        settings: &SinkSettings,
        table: &str,
        key: Option<&SchemaRef>,
        value: Option<&SchemaRef>,
    ) -> Result<Arc<Fields>> {
        if let Some((_, _, _, f)) = self
            .entries
            .iter()
            .find(|(t, k, v, _)| t == table && same(k, key) && same(v, value))
        {
            return Ok(Arc::clone(f));
        }
        let f = Arc::new(Fields::new(settings, table, key, value)?);
        if self.entries.len() >= 64 {
            self.entries.remove(0);
        }
        self.entries.push((
            table.to_owned(),
            key.cloned(),
            value.cloned(),
            Arc::clone(&f),
        ));
        Ok(f)
    }
}

/// The destination table of a topic (`table.name.format`).
pub(crate) fn table_name(format: &str, topic: &str) -> String {
    format.replace("${topic}", topic)
}

/// Groups `records` into batches (see the module doc).
pub(crate) fn plan(
    settings: &SinkSettings,
    cache: &mut FieldsCache,
    records: &[SinkRecord],
) -> Result<Vec<Batch>> {
    let mut out: Vec<Batch> = Vec::new();
    // Records of one put mostly share a topic: its table name is worked out once.
    let mut topic_table: Option<(&str, String)> = None;
    for r in records {
        let rec = &r.record;
        if topic_table
            .as_ref()
            .is_none_or(|(topic, _)| *topic != rec.topic)
        {
            let table = table_name(&settings.table_name_format, &rec.topic);
            topic_table = Some((&rec.topic, table));
        }
        let table: &str = &topic_table.as_ref().expect("set above").1;
        let tombstone = rec.value.is_null();
        if tombstone && !settings.delete_enabled {
            return Err(ConnectError::data(format!(
                "Sink connector '{}' is configured with '{DELETE_ENABLED}=false' and '{PK_MODE}={}' and therefore requires records with a non-null Struct value and non-null Struct schema, but found record at (topic='{}',partition={},offset={},timestamp={}) with a null value and {} value schema.",
                settings.connector_name,
                settings.pk_mode.name().to_ascii_lowercase(),
                rec.topic,
                r.kafka_partition(),
                r.kafka_offset(),
                rec.timestamp.map_or("null".to_owned(), |t| t.to_string()),
                if rec.value_schema.is_some() { "non-null" } else { "null" },
            )));
        }
        let (op, fields, row) = if tombstone {
            let f = cache.get(settings, table, rec.key_schema.as_ref(), None)?;
            let row = f.key_cells(r)?;
            (Op::Delete, f, row)
        } else {
            let f = cache.get(
                settings,
                table,
                rec.key_schema.as_ref(),
                rec.value_schema.as_ref(),
            )?;
            let row = f.row(r)?;
            (Op::Write, f, row)
        };
        match out.last_mut() {
            Some(b) if b.table == table && b.op == op && Arc::ptr_eq(&b.fields, &fields) => {
                b.rows.push(row)
            }
            _ => out.push(Batch {
                table: table.to_owned(),
                fields,
                op,
                rows: vec![row],
            }),
        }
    }
    Ok(out)
}

/// Keeps the last row per key (the first `key_len` cells), in first-seen order of the keys.
fn last_per_key(rows: &[Vec<Cell>], key_len: usize) -> Vec<&Vec<Cell>> {
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut kept: Vec<&Vec<Cell>> = Vec::new();
    for row in rows {
        let k = format!("{:?}", &row[..key_len]);
        match index.get(&k) {
            Some(&i) => kept[i] = row,
            None => {
                index.insert(k, kept.len());
                kept.push(row);
            }
        }
    }
    kept
}

/// Runs batches against one database, remembering the columns of tables it has seen.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    /// Known tables and their column names.
    known: HashMap<String, HashSet<String>>,
}

impl Writer {
    /// Forgets cached table layouts (after a failure: someone may have changed the tables).
    pub(crate) fn forget(&mut self) {
        self.known.clear();
    }

    fn table_id(kind: DbKind, name: &str) -> TableId {
        match name.split_once('.') {
            Some((ns, t)) => match kind {
                DbKind::MySql => TableId {
                    catalog: Some(ns.to_owned()),
                    schema: None,
                    table: t.to_owned(),
                },
                DbKind::Postgres => TableId {
                    catalog: None,
                    schema: Some(ns.to_owned()),
                    table: t.to_owned(),
                },
            },
            None => TableId::bare(name),
        }
    }

    /// Creates or evolves `table` so that it has every column of `fields`.
    async fn ensure_table(
        &mut self,
        db: &mut Db,
        settings: &SinkSettings,
        table: &str,
        fields: &Fields,
    ) -> Result<()> {
        if let Some(cols) = self.known.get(table) {
            if fields.all().all(|c| cols.contains(&c.name)) {
                return Ok(());
            }
        }
        let d = db.dialect();
        let id = Self::table_id(d.kind(), table);
        let table_sql = d.table_sql(&id, settings.quote);
        let namespace = db.namespace_of(&id).await?;
        let existing: HashSet<String> = db
            .catalog_columns(&namespace, &id.table)
            .await?
            .into_iter()
            .map(|c| c.name)
            .collect();
        let defs = |pred: &dyn Fn(&str) -> bool| -> Vec<ColumnDef<'_>> {
            fields
                .keys
                .iter()
                .map(|c| (c, true))
                .chain(fields.values.iter().map(|c| (c, false)))
                .filter(|(c, _)| pred(&c.name))
                .map(|(c, is_key)| ColumnDef {
                    name: &c.name,
                    schema: &c.schema,
                    is_key,
                })
                .collect()
        };
        if existing.is_empty() {
            if !settings.auto_create {
                return Err(ConnectError::config(format!(
                    "Table {table} is missing and auto-creation is disabled"
                )));
            }
            let ddl = sql::create_table(d, &table_sql, &defs(&|_| true), settings.quote)
                .map_err(ConnectError::config)?;
            tracing::info!("creating table {table}: {ddl}");
            db.simple(&ddl).await?;
        } else {
            let missing = defs(&|n| !existing.contains(n));
            if !missing.is_empty() {
                let names: Vec<&str> = missing.iter().map(|c| c.name).collect();
                if !settings.auto_evolve {
                    return Err(ConnectError::config(format!(
                        "Table {table} is missing fields ({}) and auto-evolution is disabled",
                        names.join(", ")
                    )));
                }
                for c in &missing {
                    if !c.schema.optional && c.schema.default.is_none() {
                        return Err(ConnectError::config(format!(
                            "Cannot ALTER TABLE {table} to add missing field {}, as the field is not optional and does not have a default value",
                            c.name
                        )));
                    }
                }
                let ddl = sql::alter_add(d, &table_sql, &missing, settings.quote)
                    .map_err(ConnectError::config)?;
                tracing::info!("evolving table {table}: {ddl}");
                db.simple(&ddl).await?;
            }
        }
        self.known.insert(
            table.to_owned(),
            existing
                .into_iter()
                .chain(fields.all().map(|c| c.name.clone()))
                .collect(),
        );
        Ok(())
    }

    /// Writes `batches` in one transaction (DDL first). On error the transaction is rolled back.
    pub(crate) async fn write(
        &mut self,
        db: &mut Db,
        settings: &SinkSettings,
        batches: &[Batch],
    ) -> Result<()> {
        for b in batches.iter().filter(|b| b.op == Op::Write) {
            self.ensure_table(db, settings, &b.table, &b.fields).await?;
        }
        db.simple("BEGIN").await?;
        let result = self.write_in_transaction(db, settings, batches).await;
        match result {
            Ok(()) => db.simple("COMMIT").await,
            Err(e) => {
                if let Err(r) = db.simple("ROLLBACK").await {
                    tracing::warn!("ROLLBACK failed after {e}: {r}");
                }
                Err(e)
            }
        }
    }

    async fn write_in_transaction(
        &mut self,
        db: &mut Db,
        settings: &SinkSettings,
        batches: &[Batch],
    ) -> Result<()> {
        let d = db.dialect();
        let q = settings.quote;
        for b in batches {
            let id = Self::table_id(d.kind(), &b.table);
            let table = d.table_sql(&id, q);
            let keys = sql::quote_all(d, &b.fields.key_names(), q);
            let non_keys = sql::quote_all(d, &b.fields.value_names(), q);
            match (b.op, settings.insert_mode) {
                (Op::Delete, _) => {
                    let rows = last_per_key(&b.rows, keys.len());
                    let chunk = settings
                        .batch_size
                        .min(MAX_PARAMS / keys.len().max(1))
                        .max(1);
                    for part in chunks(&rows, chunk) {
                        let stmt = sql::delete(d, &table, &keys, part.len());
                        let params: Vec<Cell> =
                            part.iter().flat_map(|r| r.iter().cloned()).collect();
                        db.execute(&stmt, &params).await?;
                    }
                }
                (Op::Write, InsertMode::Update) => {
                    let stmt = sql::update(d, &table, &keys, &non_keys);
                    let params: Vec<Vec<Cell>> = b
                        .rows
                        .iter()
                        .map(|row| {
                            let (k, v) = row.split_at(keys.len());
                            v.iter().chain(k.iter()).cloned().collect()
                        })
                        .collect();
                    for part in chunks(&params, settings.batch_size) {
                        db.execute_many(&stmt, part).await?;
                    }
                }
                (Op::Write, InsertMode::Insert) if d.kind() == DbKind::Postgres => {
                    let columns: Vec<String> =
                        keys.iter().chain(non_keys.iter()).cloned().collect();
                    let stmt = sql::copy(&table, &columns);
                    let tz = settings.connection.timezone;
                    for part in chunks(&b.rows, settings.batch_size) {
                        // About the rendered size, so the payload is not regrown (and copied)
                        // a dozen times on its way to a few hundred kB.
                        let estimate: usize = part.iter().map(|r| row_bytes(r)).sum();
                        let mut payload = Vec::with_capacity(estimate + estimate / 2);
                        for row in part {
                            for (i, cell) in row.iter().enumerate() {
                                if i > 0 {
                                    payload.push(b'\t');
                                }
                                crate::db::copy_field(&mut payload, cell, tz);
                            }
                            payload.push(b'\n');
                        }
                        db.copy_in(&stmt, payload).await?;
                    }
                }
                (Op::Write, mode) => {
                    let columns: Vec<String> =
                        keys.iter().chain(non_keys.iter()).cloned().collect();
                    let upsert = mode == InsertMode::Upsert;
                    let rows: Vec<&Vec<Cell>> = if upsert {
                        last_per_key(&b.rows, keys.len())
                    } else {
                        b.rows.iter().collect()
                    };
                    if d.kind() == DbKind::MySql {
                        let head = format!("INSERT INTO {table}({}) VALUES ", columns.join(","));
                        let tail = if upsert {
                            d.upsert_clause(&keys, &non_keys)
                        } else {
                            String::new()
                        };
                        let column_list = columns.join(",");
                        for part in chunks(&rows, settings.batch_size) {
                            // Plain inserts try the bulk loader first (see `Db::load_rows`).
                            if !upsert {
                                db.simple("SAVEPOINT ferry_load").await?;
                                if db.load_rows(&table, &column_list, part).await? {
                                    continue;
                                }
                                db.simple("ROLLBACK TO SAVEPOINT ferry_load").await?;
                            }
                            db.execute_literal(&head, part, &tail).await?;
                        }
                        continue;
                    }
                    let chunk = settings
                        .batch_size
                        .min(MAX_PARAMS / columns.len().max(1))
                        .max(1);
                    for part in chunks(&rows, chunk) {
                        let stmt = sql::insert(
                            d,
                            &table,
                            &columns,
                            part.len(),
                            upsert.then_some((&keys[..], &non_keys[..])),
                        );
                        let params: Vec<Cell> =
                            part.iter().flat_map(|r| r.iter().cloned()).collect();
                        db.execute(&stmt, &params).await?;
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_last_row_per_key() {
        let rows = vec![
            vec![Cell::Int(1), Cell::Text("a".into())],
            vec![Cell::Int(2), Cell::Text("b".into())],
            vec![Cell::Int(1), Cell::Text("c".into())],
        ];
        let kept = last_per_key(&rows, 1);
        assert_eq!(kept, vec![&rows[2], &rows[1]]);
    }

    #[test]
    fn chunks_by_rows_and_bytes() {
        let small: Vec<Vec<Cell>> = (0..7).map(|i| vec![Cell::Int(i)]).collect();
        let sizes: Vec<usize> = chunks(&small, 3).iter().map(|c| c.len()).collect();
        assert_eq!(sizes, [3, 3, 1]);
        let big = || vec![Cell::Text("x".repeat(MAX_STATEMENT_BYTES / 2))];
        let wide: Vec<Vec<Cell>> = (0..5).map(|_| big()).collect();
        let sizes: Vec<usize> = chunks(&wide, 100).iter().map(|c| c.len()).collect();
        assert_eq!(sizes, [1, 1, 1, 1, 1]);
        let huge = vec![vec![Cell::Text("x".repeat(MAX_STATEMENT_BYTES * 2))]];
        assert_eq!(chunks(&huge, 100).len(), 1);
        assert!(chunks::<Vec<Cell>>(&[], 3).is_empty());
    }

    #[test]
    fn table_names() {
        assert_eq!(table_name("kafka_${topic}", "orders"), "kafka_orders");
        assert_eq!(
            Writer::table_id(DbKind::Postgres, "app.orders"),
            TableId {
                catalog: None,
                schema: Some("app".into()),
                table: "orders".into()
            }
        );
        assert_eq!(
            Writer::table_id(DbKind::MySql, "orders"),
            TableId::bare("orders")
        );
    }
}
