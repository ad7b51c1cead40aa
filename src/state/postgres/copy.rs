//! Rows out of and into PostgreSQL, for copying a state between engines.

use tokio_postgres::types::ToSql;

use super::Postgres;
use crate::state::columns::{copy_sql, Col, Value, TABLES};
use crate::state::StateError;

impl Postgres {
    pub fn table_rows(
        &self,
        table: &str,
        columns: &[(&str, Col)],
    ) -> Result<Vec<Vec<Value>>, StateError> {
        let err = self.error();
        let (select, _) = copy_sql(table, columns, |i| format!("${i}"));
        let rows = self.block(async {
            let client = self.client().await?;
            client.query(&select, &[]).await.map_err(&err)
        })?;
        Ok(rows
            .iter()
            .map(|r| {
                columns
                    .iter()
                    .enumerate()
                    .map(|(i, (_, col))| {
                        let value = match col {
                            Col::Text => r.get::<_, Option<String>>(i).map(Value::Text),
                            Col::Int => r.get::<_, Option<i64>>(i).map(Value::Int),
                            Col::Int32 => r.get::<_, Option<i32>>(i).map(|n| Value::Int(n.into())),
                            Col::Blob => r.get::<_, Option<Vec<u8>>>(i).map(Value::Blob),
                            Col::Bool => r.get::<_, Option<bool>>(i).map(|b| Value::Int(b.into())),
                        };
                        value.unwrap_or(Value::Null)
                    })
                    .collect()
            })
            .collect())
    }

    pub fn insert_rows(&mut self, tables: &[(&str, Vec<Vec<Value>>)]) -> Result<(), StateError> {
        let err = self.error();
        self.block(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await.map_err(&err)?;
            for (table, rows) in tables {
                let columns = TABLES
                    .iter()
                    .find(|(t, _)| t == table)
                    .map(|(_, c)| *c)
                    .unwrap_or_default();
                let (_, insert) = copy_sql(table, columns, |i| format!("${i}"));
                let stmt = tx.prepare(&insert).await.map_err(&err)?;
                for row in rows {
                    let values: Vec<Box<dyn ToSql + Sync + Send>> = row
                        .iter()
                        .zip(columns)
                        .map(|(v, (_, col))| typed(v, *col))
                        .collect();
                    let params: Vec<&(dyn ToSql + Sync)> =
                        values.iter().map(|b| &**b as &(dyn ToSql + Sync)).collect();
                    tx.execute(&stmt, &params).await.map_err(&err)?;
                }
            }
            tx.commit().await.map_err(&err)
        })
    }
}

/// `v` as the PostgreSQL type of a `col` column.
fn typed(v: &Value, col: Col) -> Box<dyn ToSql + Sync + Send> {
    let int = |v: &Value| match v {
        Value::Int(n) => Some(*n),
        Value::Text(t) => t.parse().ok(),
        _ => None,
    };
    match col {
        Col::Text => Box::new(match v {
            Value::Text(t) => Some(t.clone()),
            Value::Int(n) => Some(n.to_string()),
            Value::Blob(b) => Some(String::from_utf8_lossy(b).into_owned()),
            Value::Null => None,
        }),
        Col::Int => Box::new(int(v)),
        Col::Int32 => Box::new(int(v).and_then(|n| i32::try_from(n).ok())),
        Col::Bool => Box::new(int(v).map(|n| n != 0)),
        Col::Blob => Box::new(match v {
            Value::Blob(b) => Some(b.clone()),
            Value::Text(t) => Some(t.clone().into_bytes()),
            _ => None,
        }),
    }
}
