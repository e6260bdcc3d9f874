//! SQL text built from [`Dialect`] pieces: the source's SELECT with Confluent's criteria, and the
//! sink's multi-row INSERT/upsert, UPDATE, DELETE, CREATE TABLE and ALTER TABLE. Pure functions,
//! tested against golden strings for both databases.

use ferry_api::Schema;

use crate::dialect::{Dialect, QuoteMode};
use crate::url::DbKind;

/// Numbers placeholders as a statement is built (`?` for MySQL, `$n` for PostgreSQL).
#[derive(Debug)]
pub(crate) struct Placeholders<'d> {
    dialect: &'d dyn Dialect,
    next: usize,
}

impl<'d> Placeholders<'d> {
    pub(crate) fn new(dialect: &'d dyn Dialect) -> Self {
        Placeholders { dialect, next: 1 }
    }
    pub(crate) fn next(&mut self) -> String {
        let p = self.dialect.placeholder(self.next);
        self.next += 1;
        p
    }
}

/// Quotes each name.
pub(crate) fn quote_all(d: &dyn Dialect, names: &[String], mode: QuoteMode) -> Vec<String> {
    names.iter().map(|n| d.quote(n, mode)).collect()
}

/// The source's incremental criteria (`TimestampIncrementingCriteria`), appended to the base query.
/// Binds, in order: incrementing → [inc]; timestamp → [from, to];
/// timestamp+incrementing → [to, from, inc, from].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Criteria {
    /// Bulk: no criteria.
    None,
    /// `incrementing`.
    Incrementing { inc: String },
    /// `timestamp` (the expression is a column or a COALESCE of columns).
    Timestamp { ts: String },
    /// `timestamp+incrementing`.
    TimestampIncrementing { ts: String, inc: String },
}

impl Criteria {
    /// The timestamp expression of `columns`: one quoted column, or COALESCE of them.
    pub(crate) fn timestamp_expr(d: &dyn Dialect, columns: &[String], mode: QuoteMode) -> String {
        let q = quote_all(d, columns, mode);
        if q.len() == 1 {
            q.into_iter().next().unwrap_or_default()
        } else {
            format!("COALESCE({})", q.join(","))
        }
    }

    /// The WHERE/ORDER BY text, numbering placeholders with `p`.
    pub(crate) fn clause(&self, p: &mut Placeholders<'_>) -> String {
        match self {
            Criteria::None => String::new(),
            Criteria::Incrementing { inc } => {
                format!(" WHERE {inc} > {} ORDER BY {inc} ASC", p.next())
            }
            Criteria::Timestamp { ts } => format!(
                " WHERE {ts} > {} AND {ts} < {} ORDER BY {ts} ASC",
                p.next(),
                p.next()
            ),
            Criteria::TimestampIncrementing { ts, inc } => {
                let (a, b, c, e) = (p.next(), p.next(), p.next(), p.next());
                format!(
                    " WHERE {ts} < {a} AND (({ts} = {b} AND {inc} > {c}) OR {ts} > {e}) \
                     ORDER BY {ts},{inc} ASC"
                )
            }
        }
    }
}

/// `base` + criteria + `suffix`, with `LIMIT n` when `limit` is given and there is no suffix
/// (a suffix may already end the statement).
pub(crate) fn select(
    d: &dyn Dialect,
    base: &str,
    criteria: &Criteria,
    suffix: &str,
    limit: Option<usize>,
) -> String {
    let mut p = Placeholders::new(d);
    let mut sql = format!("{base}{}", criteria.clause(&mut p));
    if !suffix.is_empty() {
        sql.push(' ');
        sql.push_str(suffix);
    } else if let Some(n) = limit {
        sql.push_str(&format!(" LIMIT {n}"));
    }
    sql
}

/// A multi-row INSERT of `rows` rows into `table` (already quoted) with quoted `columns`; an
/// upsert when `upsert` gives the (quoted) key and non-key columns.
pub(crate) fn insert(
    d: &dyn Dialect,
    table: &str,
    columns: &[String],
    rows: usize,
    upsert: Option<(&[String], &[String])>,
) -> String {
    let mut p = Placeholders::new(d);
    let mut sql = format!("INSERT INTO {table}({}) VALUES ", columns.join(","));
    for r in 0..rows {
        if r > 0 {
            sql.push(',');
        }
        let marks: Vec<String> = columns.iter().map(|_| p.next()).collect();
        sql.push('(');
        sql.push_str(&marks.join(","));
        sql.push(')');
    }
    if let Some((keys, non_keys)) = upsert {
        sql.push_str(&d.upsert_clause(keys, non_keys));
    }
    sql
}

/// `UPDATE table SET a = ?, … WHERE k = ? AND …` (binds non-keys, then keys).
pub(crate) fn update(d: &dyn Dialect, table: &str, keys: &[String], non_keys: &[String]) -> String {
    let mut p = Placeholders::new(d);
    let sets: Vec<String> = non_keys
        .iter()
        .map(|c| format!("{c} = {}", p.next()))
        .collect();
    let wheres: Vec<String> = keys.iter().map(|k| format!("{k} = {}", p.next())).collect();
    format!(
        "UPDATE {table} SET {} WHERE {}",
        sets.join(", "),
        wheres.join(" AND ")
    )
}

/// `DELETE FROM table WHERE k IN (?, …)`, or with a row constructor for composite keys.
pub(crate) fn delete(d: &dyn Dialect, table: &str, keys: &[String], rows: usize) -> String {
    let mut p = Placeholders::new(d);
    let tuples: Vec<String> = (0..rows)
        .map(|_| {
            let marks: Vec<String> = keys.iter().map(|_| p.next()).collect();
            if keys.len() == 1 {
                marks.join(",")
            } else {
                format!("({})", marks.join(","))
            }
        })
        .collect();
    let lhs = if keys.len() == 1 {
        keys[0].clone()
    } else {
        format!("({})", keys.join(","))
    };
    format!("DELETE FROM {table} WHERE {lhs} IN ({})", tuples.join(","))
}

/// The statement setting the session's transaction isolation level (`transaction.isolation.mode`).
pub(crate) fn set_isolation(d: &dyn Dialect, level: &str) -> String {
    match d.kind() {
        DbKind::MySql => format!("SET SESSION TRANSACTION ISOLATION LEVEL {level}"),
        DbKind::Postgres => {
            format!("SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL {level}")
        }
    }
}

/// `COPY table (cols) FROM STDIN` (PostgreSQL text format).
pub(crate) fn copy(table: &str, columns: &[String]) -> String {
    format!("COPY {table} ({}) FROM STDIN", columns.join(","))
}

/// A column for CREATE/ALTER: quoted name, type and nullability/default.
#[derive(Debug, Clone)]
pub(crate) struct ColumnDef<'a> {
    pub(crate) name: &'a str,
    pub(crate) schema: &'a Schema,
    pub(crate) is_key: bool,
}

/// The SQL literal of a schema default, for `DEFAULT …` (primitive defaults only).
fn default_literal(schema: &Schema) -> Option<String> {
    use ferry_api::Value;
    Some(match schema.default.as_ref()? {
        Value::Boolean(b) => (if *b { "1" } else { "0" }).to_owned(),
        Value::Int8(v) => v.to_string(),
        Value::Int16(v) => v.to_string(),
        Value::Int32(v) => v.to_string(),
        Value::Int64(v) => v.to_string(),
        Value::Float32(v) => v.to_string(),
        Value::Float64(v) => v.to_string(),
        Value::Decimal(d) => d.to_string(),
        Value::String(s) => format!("'{}'", s.replace('\'', "''")),
        _ => return None,
    })
}

fn column_sql(d: &dyn Dialect, c: &ColumnDef<'_>, mode: QuoteMode) -> Result<String, String> {
    let ty = d.ddl_type(c.schema, c.is_key).ok_or_else(|| {
        format!(
            "{} (SQL type) doesn't have a mapping to the SQL database column type for field {}",
            c.schema.schema_type, c.name
        )
    })?;
    let mut s = format!("{} {ty}", d.quote(c.name, mode));
    if let Some(lit) = default_literal(c.schema) {
        // PostgreSQL BOOLEAN takes no 0/1 literal.
        let lit = match (&c.schema.default, d.kind()) {
            (Some(ferry_api::Value::Boolean(b)), crate::url::DbKind::Postgres) => b.to_string(),
            _ => lit,
        };
        s.push_str(&format!(" DEFAULT {lit}"));
    }
    s.push_str(if c.schema.optional && !c.is_key {
        " NULL"
    } else {
        " NOT NULL"
    });
    Ok(s)
}

/// `CREATE TABLE` for `columns` with a primary key over the key columns.
pub(crate) fn create_table(
    d: &dyn Dialect,
    table: &str,
    columns: &[ColumnDef<'_>],
    mode: QuoteMode,
) -> Result<String, String> {
    let mut parts = columns
        .iter()
        .map(|c| column_sql(d, c, mode))
        .collect::<Result<Vec<_>, _>>()?;
    let keys: Vec<String> = columns
        .iter()
        .filter(|c| c.is_key)
        .map(|c| d.quote(c.name, mode))
        .collect();
    if !keys.is_empty() {
        parts.push(format!("PRIMARY KEY({})", keys.join(",")));
    }
    Ok(format!("CREATE TABLE {table} (\n{})", parts.join(",\n")))
}

/// `ALTER TABLE … ADD …, ADD …` for missing columns (auto.evolve).
pub(crate) fn alter_add(
    d: &dyn Dialect,
    table: &str,
    columns: &[ColumnDef<'_>],
    mode: QuoteMode,
) -> Result<String, String> {
    let adds = columns
        .iter()
        .map(|c| column_sql(d, c, mode).map(|s| format!("ADD {s}")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(format!("ALTER TABLE {table} {}", adds.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::{MySqlDialect, PostgresDialect};
    use ferry_api::{SchemaBuilder, Value};

    const MY: &dyn Dialect = &MySqlDialect;
    const PG: &dyn Dialect = &PostgresDialect;

    #[test]
    fn isolation_statements() {
        assert_eq!(
            set_isolation(MY, "READ COMMITTED"),
            "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED"
        );
        assert_eq!(
            set_isolation(PG, "SERIALIZABLE"),
            "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL SERIALIZABLE"
        );
    }

    #[test]
    fn source_criteria() {
        let ts = Criteria::timestamp_expr(PG, &["upd".into(), "cre".into()], QuoteMode::Always);
        assert_eq!(ts, "COALESCE(\"upd\",\"cre\")");
        let c = Criteria::TimestampIncrementing {
            ts,
            inc: "\"id\"".into(),
        };
        assert_eq!(
            select(PG, "SELECT * FROM \"t\"", &c, "", Some(100)),
            "SELECT * FROM \"t\" WHERE COALESCE(\"upd\",\"cre\") < $1 AND \
             ((COALESCE(\"upd\",\"cre\") = $2 AND \"id\" > $3) OR COALESCE(\"upd\",\"cre\") > $4) \
             ORDER BY COALESCE(\"upd\",\"cre\"),\"id\" ASC LIMIT 100"
        );
        let c = Criteria::Incrementing { inc: "`id`".into() };
        assert_eq!(
            select(MY, "SELECT * FROM `db`.`t`", &c, "", Some(5)),
            "SELECT * FROM `db`.`t` WHERE `id` > ? ORDER BY `id` ASC LIMIT 5"
        );
        let c = Criteria::Timestamp { ts: "`ts`".into() };
        assert_eq!(
            select(MY, "SELECT a FROM x", &c, "FOR UPDATE", Some(5)),
            "SELECT a FROM x WHERE `ts` > ? AND `ts` < ? ORDER BY `ts` ASC FOR UPDATE"
        );
        assert_eq!(
            select(MY, "SELECT * FROM `t`", &Criteria::None, "", None),
            "SELECT * FROM `t`"
        );
    }

    #[test]
    fn sink_statements() {
        let cols = vec!["\"id\"".to_owned(), "\"a\"".to_owned()];
        assert_eq!(
            insert(PG, "\"t\"", &cols, 2, None),
            "INSERT INTO \"t\"(\"id\",\"a\") VALUES ($1,$2),($3,$4)"
        );
        assert_eq!(
            insert(PG, "\"t\"", &cols, 1, Some((&cols[..1], &cols[1..]))),
            "INSERT INTO \"t\"(\"id\",\"a\") VALUES ($1,$2) ON CONFLICT (\"id\") DO UPDATE SET \"a\"=EXCLUDED.\"a\""
        );
        let my = vec!["`id`".to_owned(), "`a`".to_owned()];
        assert_eq!(
            insert(MY, "`t`", &my, 2, Some((&my[..1], &my[1..]))),
            "INSERT INTO `t`(`id`,`a`) VALUES (?,?),(?,?) ON DUPLICATE KEY UPDATE `a`=VALUES(`a`)"
        );
        assert_eq!(
            update(PG, "\"t\"", &cols[..1], &cols[1..]),
            "UPDATE \"t\" SET \"a\" = $1 WHERE \"id\" = $2"
        );
        assert_eq!(
            delete(MY, "`t`", &my[..1], 3),
            "DELETE FROM `t` WHERE `id` IN (?,?,?)"
        );
        assert_eq!(
            delete(PG, "\"t\"", &cols, 2),
            "DELETE FROM \"t\" WHERE (\"id\",\"a\") IN (($1,$2),($3,$4))"
        );
        assert_eq!(copy("\"t\"", &cols), "COPY \"t\" (\"id\",\"a\") FROM STDIN");
    }

    #[test]
    fn ddl() {
        let id = Schema::int64();
        let name = Schema::optional_string();
        let score = SchemaBuilder::int32()
            .default_value(Value::Int32(7))
            .build();
        let cols = [
            ColumnDef {
                name: "id",
                schema: &id,
                is_key: true,
            },
            ColumnDef {
                name: "name",
                schema: &name,
                is_key: false,
            },
            ColumnDef {
                name: "score",
                schema: &score,
                is_key: false,
            },
        ];
        assert_eq!(
            create_table(MY, "`t`", &cols, QuoteMode::Always).unwrap(),
            "CREATE TABLE `t` (\n`id` BIGINT NOT NULL,\n`name` LONGTEXT NULL,\n`score` INT DEFAULT 7 NOT NULL,\nPRIMARY KEY(`id`))"
        );
        assert_eq!(
            create_table(PG, "\"t\"", &cols, QuoteMode::Always).unwrap(),
            "CREATE TABLE \"t\" (\n\"id\" BIGINT NOT NULL,\n\"name\" TEXT NULL,\n\"score\" INT DEFAULT 7 NOT NULL,\nPRIMARY KEY(\"id\"))"
        );
        assert_eq!(
            alter_add(PG, "\"t\"", &cols[1..2], QuoteMode::Always).unwrap(),
            "ALTER TABLE \"t\" ADD \"name\" TEXT NULL"
        );
        let m = SchemaBuilder::map(Schema::string(), Schema::string()).build();
        let err = create_table(
            PG,
            "t",
            &[ColumnDef {
                name: "m",
                schema: &m,
                is_key: false,
            }],
            QuoteMode::Never,
        )
        .unwrap_err();
        assert_eq!(
            err,
            "MAP (SQL type) doesn't have a mapping to the SQL database column type for field m"
        );
    }
}
