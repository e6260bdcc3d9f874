//! Which tables the source reads: discovery through the catalog (`catalog.pattern`,
//! `schema.pattern`, `table.types`), the include/exclude lists, the split over `tasks.max`, and
//! the `tables` task-config encoding.

use ferry_api::{ConnectError, Result};

use crate::config::SourceSettings;
use crate::db::Db;
use crate::dialect::TableId;
use crate::url::DbKind;

/// Lists the tables the connector should read, sorted.
pub(crate) async fn discover(db: &mut Db, settings: &SourceSettings) -> Result<Vec<TableId>> {
    let kind = db.dialect().kind();
    let pattern = match kind {
        DbKind::MySql => match &settings.catalog_pattern {
            Some(p) => p.clone(),
            None => db.current_schema().await?,
        },
        DbKind::Postgres => settings
            .schema_pattern
            .clone()
            .unwrap_or_else(|| "%".into()),
    };
    // pgjdbc reports the connected database as every table's catalog.
    let database = match kind {
        DbKind::Postgres => db
            .query("SELECT current_database()::text", &[])
            .await?
            .into_iter()
            .next()
            .and_then(|r| r.into_iter().next())
            .and_then(crate::types::Cell::into_text),
        DbKind::MySql => None,
    };
    let types = db.dialect().table_types_filter(&settings.table_types);
    let mut out: Vec<TableId> = db
        .list_tables(&pattern)
        .await?
        .into_iter()
        .filter(|(_, _, t)| types.iter().any(|w| w.eq_ignore_ascii_case(t)))
        .map(|(schema, table, _)| match kind {
            DbKind::MySql => TableId {
                catalog: Some(schema),
                schema: None,
                table,
            },
            DbKind::Postgres => TableId {
                catalog: database.clone(),
                schema: Some(schema),
                table,
            },
        })
        .filter(|id| selected(id, &settings.include, &settings.exclude))
        .collect();
    out.sort();
    Ok(out)
}

/// Whether an include/exclude entry names `id`: the bare table name, `schema.table`,
/// `catalog.table` or the fully qualified name.
fn names(entry: &str, id: &TableId) -> bool {
    if entry == id.table || entry == id.to_string() {
        return true;
    }
    [&id.schema, &id.catalog]
        .into_iter()
        .flatten()
        .any(|q| entry == format!("{q}.{}", id.table))
}

/// Confluent's whitelist/blacklist rule (only one of the two may be set).
pub(crate) fn selected(id: &TableId, include: &[String], exclude: &[String]) -> bool {
    if !include.is_empty() {
        return include.iter().any(|e| names(e, id));
    }
    !exclude.iter().any(|e| names(e, id))
}

/// Splits `tables` into at most `max_tasks` contiguous groups of near-equal size (Connect's
/// `ConnectorUtils.groupPartitions`).
pub(crate) fn group<T: Clone>(items: &[T], max_tasks: usize) -> Vec<Vec<T>> {
    let n = max_tasks.min(items.len()).max(1);
    if items.is_empty() {
        return Vec::new();
    }
    let per = items.len() / n;
    let extra = items.len() % n;
    let mut out = Vec::with_capacity(n);
    let mut at = 0;
    for i in 0..n {
        let len = per + usize::from(i < extra);
        out.push(items[at..at + len].to_vec());
        at += len;
    }
    out
}

/// Encodes table ids for the `tables` task config: each id is three parts joined by `.`, a part
/// is `"name"` (with `""` for a quote) or `-` when absent; ids are joined by `,`.
pub(crate) fn encode(ids: &[TableId]) -> String {
    let part = |p: &Option<String>| match p {
        Some(s) => format!("\"{}\"", s.replace('"', "\"\"")),
        None => "-".to_owned(),
    };
    ids.iter()
        .map(|id| {
            format!(
                "{}.{}.{}",
                part(&id.catalog),
                part(&id.schema),
                part(&Some(id.table.clone()))
            )
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Decodes [`encode`]'s form.
pub(crate) fn decode(s: &str) -> Result<Vec<TableId>> {
    let bad = || ConnectError::config(format!("Invalid value {s} for task configuration tables"));
    let mut ids = Vec::new();
    let mut parts: Vec<Option<String>> = Vec::new();
    let mut chars = s.chars().peekable();
    if s.is_empty() {
        return Ok(ids);
    }
    loop {
        // one part
        match chars.next() {
            Some('-') => parts.push(None),
            Some('"') => {
                let mut name = String::new();
                loop {
                    match chars.next() {
                        Some('"') if chars.peek() == Some(&'"') => {
                            chars.next();
                            name.push('"');
                        }
                        Some('"') => break,
                        Some(c) => name.push(c),
                        None => return Err(bad()),
                    }
                }
                parts.push(Some(name));
            }
            _ => return Err(bad()),
        }
        match chars.next() {
            Some('.') => continue,
            sep @ (Some(',') | None) => {
                let [catalog, schema, Some(table)]: [Option<String>; 3] =
                    std::mem::take(&mut parts).try_into().map_err(|_| bad())?
                else {
                    return Err(bad());
                };
                ids.push(TableId {
                    catalog,
                    schema,
                    table,
                });
                if sep.is_none() {
                    return Ok(ids);
                }
            }
            _ => return Err(bad()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(c: Option<&str>, s: Option<&str>, t: &str) -> TableId {
        TableId {
            catalog: c.map(Into::into),
            schema: s.map(Into::into),
            table: t.into(),
        }
    }

    #[test]
    fn include_exclude() {
        let t = id(Some("db"), Some("public"), "orders");
        let l = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(selected(&t, &[], &[]));
        assert!(selected(&t, &l(&["orders"]), &[]));
        assert!(selected(&t, &l(&["public.orders"]), &[]));
        assert!(selected(&t, &l(&["db.public.orders"]), &[]));
        assert!(!selected(&t, &l(&["users"]), &[]));
        assert!(!selected(&t, &[], &l(&["orders"])));
        assert!(selected(&t, &[], &l(&["other.orders"])));
    }

    #[test]
    fn groups_like_connect() {
        assert_eq!(group(&[1, 2, 3, 4, 5], 2), vec![vec![1, 2, 3], vec![4, 5]]);
        assert_eq!(group(&[1, 2], 5), vec![vec![1], vec![2]]);
        assert!(group::<i32>(&[], 3).is_empty());
    }

    #[test]
    fn task_encoding_round_trips() {
        let ids = vec![
            id(Some("db"), None, "a,b"),
            id(Some("x"), Some("pub\"lic"), "t.1"),
        ];
        let s = encode(&ids);
        assert_eq!(s, "\"db\".-.\"a,b\",\"x\".\"pub\"\"lic\".\"t.1\"");
        assert_eq!(decode(&s).unwrap(), ids);
        assert!(decode("").unwrap().is_empty());
        assert!(decode("\"a\"").is_err());
    }
}
