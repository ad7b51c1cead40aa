//! Rows out of and into SQLite, for copying a state between engines.

use rusqlite::types::Value as Sql;

use super::Sqlite;
use crate::state::columns::{copy_sql, Col, Value, TABLES};
use crate::state::StateError;

impl Sqlite {
    pub fn table_rows(
        &self,
        table: &str,
        columns: &[(&str, Col)],
    ) -> Result<Vec<Vec<Value>>, StateError> {
        let (select, _) = copy_sql(table, columns, |i| format!("?{i}"));
        let mut stmt = self.conn.prepare(&select)?;
        let rows = stmt
            .query_map([], |r| {
                (0..columns.len())
                    .map(|i| {
                        Ok(match r.get::<_, Sql>(i)? {
                            Sql::Null => Value::Null,
                            Sql::Integer(n) => Value::Int(n),
                            Sql::Real(x) => Value::Text(x.to_string()),
                            Sql::Text(t) => Value::Text(t),
                            Sql::Blob(b) => Value::Blob(b),
                        })
                    })
                    .collect::<rusqlite::Result<Vec<_>>>()
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    pub fn insert_rows(&mut self, tables: &[(&str, Vec<Vec<Value>>)]) -> Result<(), StateError> {
        let tx = self.conn.transaction()?;
        for (table, rows) in tables {
            let columns = TABLES
                .iter()
                .find(|(t, _)| t == table)
                .map(|(_, c)| *c)
                .unwrap_or_default();
            let (_, insert) = copy_sql(table, columns, |i| format!("?{i}"));
            let mut stmt = tx.prepare(&insert)?;
            for row in rows {
                let values: Vec<Sql> = row
                    .iter()
                    .map(|v| match v {
                        Value::Null => Sql::Null,
                        Value::Int(n) => Sql::Integer(*n),
                        Value::Text(t) => Sql::Text(t.clone()),
                        Value::Blob(b) => Sql::Blob(b.clone()),
                    })
                    .collect();
                stmt.execute(rusqlite::params_from_iter(values))?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}
