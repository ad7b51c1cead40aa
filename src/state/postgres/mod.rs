//! The PostgreSQL engine: the state shared by replicas. The same tables as
//! SQLite's, with the same column values (`state::columns`), so that a
//! state copies from one engine to the other row for row.
//!
//! Callers are synchronous (as with SQLite, a call blocks its thread until
//! the database answers): the engine owns a small tokio runtime of its own
//! that drives the connections (`tokio-postgres`, pooled by
//! `deadpool-postgres`, TLS through rustls), and each call waits for its
//! query on the calling thread. That works from any thread, a server
//! thread's event loop included, without a runtime inside a runtime.
//!
//! The schema is created and migrated on connect, under a transaction-wide
//! advisory lock: replicas that start at once migrate once.

use std::future::Future;
use std::path::Path;
use std::sync::Arc;

use crate::load::config::{PostgresTls, PostgresUrl};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};

use super::StateError;

mod copy;
mod lease;
mod ledger;
mod subscriptions;
mod versions;
mod watch;

/// Schema migrations, applied in order; `schema_version` counts those
/// applied. The first is SQLite's schema as of its eighth migration, in
/// PostgreSQL's types. Times stay RFC 3339 text, as SQLite stores them,
/// and every text column compares by bytes (`COLLATE "C"`), as SQLite's
/// do, whatever the database's locale.
const MIGRATIONS: &[&str] = &[
    r#"CREATE TABLE entries (
        id          TEXT COLLATE "C" PRIMARY KEY,
        fingerprint TEXT COLLATE "C" NOT NULL,
        sequence    BIGINT NOT NULL,
        changed_at  TEXT COLLATE "C" NOT NULL,
        removed_at  TEXT COLLATE "C",
        due         TEXT COLLATE "C",
        due_at      TEXT COLLATE "C",
        was_due     TEXT COLLATE "C",
        was_due_at  TEXT COLLATE "C"
    );
    CREATE TABLE meta (
        key   TEXT COLLATE "C" PRIMARY KEY,
        value TEXT COLLATE "C" NOT NULL
    );
    CREATE TABLE reminders (
        email      TEXT COLLATE "C" NOT NULL,
        deadline   TEXT COLLATE "C" NOT NULL,
        due_at     TEXT COLLATE "C" NOT NULL,
        kind       TEXT COLLATE "C" NOT NULL,
        state      TEXT COLLATE "C" NOT NULL CHECK (state IN ('sending', 'sent', 'skipped', 'failed', 'held')),
        attempts   BIGINT NOT NULL DEFAULT 0,
        message_id TEXT COLLATE "C",
        last_error TEXT COLLATE "C",
        created_at TEXT COLLATE "C" NOT NULL,
        updated_at TEXT COLLATE "C" NOT NULL,
        PRIMARY KEY (email, deadline, due_at, kind)
    );
    CREATE TABLE opt_outs (
        email TEXT COLLATE "C" PRIMARY KEY,
        at    TEXT COLLATE "C" NOT NULL
    );
    CREATE TABLE subscriptions (
        id           TEXT COLLATE "C" PRIMARY KEY,
        status       TEXT COLLATE "C" NOT NULL CHECK (status IN ('pending', 'approval', 'active', 'file')),
        sealed       BYTEA NOT NULL,
        created_at   TEXT COLLATE "C" NOT NULL,
        updated_at   TEXT COLLATE "C" NOT NULL,
        expires_at   TEXT COLLATE "C",
        paused_until TEXT COLLATE "C",
        generation   BIGINT NOT NULL DEFAULT 0
    );
    CREATE INDEX subscriptions_expiry ON subscriptions (status, expires_at);
    CREATE TABLE mailed (
        id TEXT COLLATE "C" PRIMARY KEY,
        at TEXT COLLATE "C" NOT NULL
    );
    CREATE INDEX mailed_at ON mailed (at);
    CREATE TABLE key_notices (
        id    TEXT COLLATE "C" PRIMARY KEY,
        email TEXT COLLATE "C" NOT NULL,
        at    TEXT COLLATE "C" NOT NULL
    );
    CREATE INDEX key_notices_email ON key_notices (email);
    CREATE TABLE watched (
        url           TEXT COLLATE "C" PRIMARY KEY,
        checked_at    TEXT COLLATE "C" NOT NULL,
        status        INTEGER,
        final_url     TEXT COLLATE "C",
        error         TEXT COLLATE "C",
        failures      BIGINT NOT NULL DEFAULT 0,
        failing_since TEXT COLLATE "C",
        answered_at   TEXT COLLATE "C",
        etag          TEXT COLLATE "C",
        last_modified TEXT COLLATE "C",
        fingerprint   TEXT COLLATE "C",
        text          TEXT COLLATE "C",
        cut           BOOLEAN NOT NULL DEFAULT FALSE,
        changed_at    TEXT COLLATE "C",
        excerpt       TEXT COLLATE "C",
        reader        BIGINT NOT NULL DEFAULT 1
    );
    CREATE TABLE watch_alerts (
        url     TEXT COLLATE "C" NOT NULL,
        key     TEXT COLLATE "C" NOT NULL,
        entries TEXT COLLATE "C" NOT NULL,
        message TEXT COLLATE "C" NOT NULL,
        excerpt TEXT COLLATE "C",
        seen_at TEXT COLLATE "C" NOT NULL,
        sent_at TEXT COLLATE "C",
        PRIMARY KEY (url, key)
    );"#,
    // 2: the lead of replicas: one row, its holder (a random id per
    // process), its term (grows with every change of holder) and when it
    // runs out, by the database's clock.
    r#"CREATE TABLE lease (
        name       TEXT COLLATE "C" PRIMARY KEY,
        holder     TEXT COLLATE "C" NOT NULL,
        term       BIGINT NOT NULL,
        expires_at TIMESTAMPTZ NOT NULL
    );"#,
];

/// The longest one call waits for the database.
const ANSWER_WITHIN: std::time::Duration = std::time::Duration::from_secs(60);

/// The advisory lock (transaction-wide) under which the schema migrates.
const LOCK_SCHEMA: i64 = 0x6d65_6368_0001;
/// The advisory lock (transaction-wide) under which entry versions are
/// read, decided and written: replicas syncing at once take turns.
const LOCK_ENTRIES: i64 = 0x6d65_6368_0002;

/// A PostgreSQL state database.
pub struct Postgres {
    /// The lead ledger writes are made under (`holder`, `term`): a write
    /// is refused once the lease has moved on.
    pub(super) fence: Option<(String, i64)>,
    /// `Some` until dropped: a runtime is shut down in the background, so
    /// that dropping the engine inside an async task never blocks it.
    runtime: Option<tokio::runtime::Runtime>,
    pool: Pool,
    /// The database as shown in errors (host, port, name; never a
    /// password).
    pub(super) shown: Arc<str>,
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl Postgres {
    /// Connects to `url` (`postgres://user@host:port/db?sslmode=…`) with
    /// `password` (never part of the URL), and migrates the schema. TLS
    /// (`require`, `verify-ca`, `verify-full`) goes through rustls and
    /// verifies the certificate against the system's CA certificates, or
    /// `sslrootcert`'s, and the host's name; plain text only to this
    /// machine or where `sslmode=disable` is written
    /// ([`crate::load::config::postgres_config`]).
    pub fn connect(url: &str, password: Option<&str>) -> Result<Postgres, StateError> {
        let PostgresUrl { mut config, tls } = crate::load::config::postgres_config(url)
            .map_err(|reason| StateError::Url { reason })?;
        if config.get_password().is_some() {
            return Err(StateError::Url {
                reason: "the URL holds a password; give it in `[state] password_file` or the systemd credential `state-password` instead".into(),
            });
        }
        if let Some(p) = password {
            config.password(p);
        }
        // A database that does not answer is an error, not a hang.
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(std::time::Duration::from_secs(10));
        }
        let shown: Arc<str> = shown(&config).into();
        // Everything that can fail before the runtime exists: a runtime
        // dropped inside the caller's (async) context would panic.
        let manager_config = ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        };
        let manager = match tls {
            PostgresTls::Off => Manager::from_config(config, tokio_postgres::NoTls, manager_config),
            PostgresTls::Verified { roots } => {
                let tls =
                    tokio_postgres_rustls::MakeRustlsConnect::new(tls_config(roots.as_deref())?);
                Manager::from_config(config, tls, manager_config)
            }
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("mechcal-postgres")
            .enable_all()
            .build()
            .map_err(|e| StateError::Postgres {
                database: shown.to_string(),
                reason: format!("cannot start its runtime: {e}"),
            })?;
        let built = {
            let _inside = runtime.enter();
            Pool::builder(manager).max_size(4).build()
        };
        let pool = match built {
            Ok(pool) => pool,
            Err(e) => {
                runtime.shutdown_background();
                return Err(StateError::Postgres {
                    database: shown.to_string(),
                    reason: e.to_string(),
                });
            }
        };
        let db = Postgres {
            fence: None,
            runtime: Some(runtime),
            pool,
            shown,
        };
        db.migrate()?;
        Ok(db)
    }

    /// Runs `f` to completion on the calling thread, its I/O driven by the
    /// engine's runtime; a database that does not answer within
    /// [`ANSWER_WITHIN`] is an error, never a thread stuck for ever.
    fn block<T, F: Future<Output = Result<T, StateError>>>(&self, f: F) -> Result<T, StateError> {
        let _inside = self.runtime.as_ref().map(|r| r.enter());
        // Outside tokio's cooperative budget: called from within a tokio
        // task (a pass, a handler), a spent budget would defer the wake-up
        // to that task's scheduler, which this very call blocks: the call
        // would never wake.
        futures_executor::block_on(tokio::task::unconstrained(async {
            match tokio::time::timeout(ANSWER_WITHIN, f).await {
                Ok(answer) => answer,
                Err(_) => Err(StateError::Postgres {
                    database: self.shown.to_string(),
                    reason: format!("no answer within {} s", ANSWER_WITHIN.as_secs()),
                }),
            }
        }))
    }

    /// A pooled connection.
    async fn client(&self) -> Result<deadpool_postgres::Object, StateError> {
        self.pool.get().await.map_err(|e| StateError::Postgres {
            database: self.shown.to_string(),
            reason: match e {
                deadpool_postgres::PoolError::Backend(e) => described(&e),
                other => other.to_string(),
            },
        })
    }

    /// The error of a query, naming the database.
    fn error(&self) -> impl Fn(tokio_postgres::Error) -> StateError + '_ {
        move |e| StateError::Postgres {
            database: self.shown.to_string(),
            reason: described(&e),
        }
    }

    fn migrate(&self) -> Result<(), StateError> {
        let err = self.error();
        self.block(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await.map_err(&err)?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_SCHEMA])
                .await
                .map_err(&err)?;
            tx.batch_execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL);",
            )
            .await
            .map_err(&err)?;
            let found: Option<i64> = tx
                .query_opt("SELECT version FROM schema_version", &[])
                .await
                .map_err(&err)?
                .map(|r| r.get(0));
            let version = usize::try_from(found.unwrap_or(0)).unwrap_or(usize::MAX);
            if version > MIGRATIONS.len() {
                return Err(StateError::TooNew {
                    path: self.shown.to_string().into(),
                    found: version,
                    known: MIGRATIONS.len(),
                });
            }
            for sql in &MIGRATIONS[version..] {
                tx.batch_execute(sql).await.map_err(&err)?;
            }
            let known = MIGRATIONS.len() as i64;
            if found.is_none() {
                tx.execute(
                    "INSERT INTO schema_version (version) VALUES ($1)",
                    &[&known],
                )
                .await
                .map_err(&err)?;
            } else {
                tx.execute("UPDATE schema_version SET version = $1", &[&known])
                    .await
                    .map_err(&err)?;
            }
            tx.commit().await.map_err(&err)
        })
    }

    /// Whether `sql` (one `$1`) finds a row.
    pub(super) fn exists(&self, sql: &str, value: &str) -> Result<bool, StateError> {
        let err = self.error();
        self.block(async {
            let client = self.client().await?;
            Ok(client
                .query_opt(sql, &[&value])
                .await
                .map_err(&err)?
                .is_some())
        })
    }

    /// Runs one statement; the rows it changed.
    pub(super) fn execute(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<u64, StateError> {
        let err = self.error();
        self.block(async {
            let client = self.client().await?;
            client.execute(sql, params).await.map_err(&err)
        })
    }

    fn meta(&self, key: &str) -> Result<Option<String>, StateError> {
        let err = self.error();
        self.block(async {
            let client = self.client().await?;
            Ok(client
                .query_opt("SELECT value FROM meta WHERE key = $1", &[&key])
                .await
                .map_err(&err)?
                .map(|r| r.get(0)))
        })
    }
}

/// What went wrong, with its causes: the server's own message (`no
/// pg_hba.conf entry … no encryption`), or the TLS handshake's reason
/// (`invalid peer certificate: UnknownIssuer`), which tokio-postgres keeps
/// in the error's sources rather than in its text.
fn described(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut text = db.message().to_string();
        if let Some(hint) = db.hint() {
            text = format!("{text} ({hint})");
        }
        if text.contains("no encryption") {
            text.push_str("\n  help: the server takes TLS connections only: add `sslmode=verify-full` to the URL");
        }
        return text;
    }
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.contains(&more) {
            text = format!("{text}: {more}");
        }
        cause = c.source();
    }
    if text.contains("invalid peer certificate") {
        text.push_str("\n  help: connect by a name the server's certificate holds, and name the CA that signed it in the URL: `&sslrootcert=/path/ca.pem`");
    }
    text
}

/// `host:port/dbname`, for errors and logs.
fn shown(config: &tokio_postgres::Config) -> String {
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        Some(tokio_postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!(
        "postgres://{host}:{port}/{}",
        config.get_dbname().unwrap_or("")
    )
}

/// rustls on ring, trusting the certificates in `file` (PEM), or else the
/// system's CA certificates (`SSL_CERT_FILE` and `SSL_CERT_DIR` replace
/// them), as the SMTP side does.
fn tls_config(file: Option<&Path>) -> Result<rustls::ClientConfig, StateError> {
    use rustls::pki_types::{pem::PemObject as _, CertificateDer};
    let mut roots = rustls::RootCertStore::empty();
    match file {
        Some(file) => {
            let unreadable = |reason: String| StateError::Url {
                reason: format!("`sslrootcert` {}: {reason}", file.display()),
            };
            let certs = CertificateDer::pem_file_iter(file)
                .map_err(|e| unreadable(pem_error(e)))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| unreadable(pem_error(e)))?;
            if certs.is_empty() {
                return Err(unreadable("holds no PEM certificate".into()));
            }
            for cert in certs {
                roots
                    .add(cert)
                    .map_err(|e| unreadable(format!("not a CA certificate ({e})")))?;
            }
        }
        None => {
            for cert in rustls_native_certs::load_native_certs().certs {
                let _ = roots.add(cert);
            }
            if roots.is_empty() {
                return Err(StateError::Url {
                    reason: "TLS is asked for but the system has no CA certificates: install Debian's `ca-certificates`, or name the server's CA in `sslrootcert=/path/ca.pem`".into(),
                });
            }
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| StateError::Url {
            reason: format!("TLS: {e}"),
        })?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

fn pem_error(e: rustls::pki_types::pem::Error) -> String {
    match e {
        rustls::pki_types::pem::Error::Io(e) => crate::load::deadlines::io_reason(&e),
        other => format!("not PEM ({other:?})"),
    }
}
