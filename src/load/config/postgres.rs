//! `[state] url`: a `postgres://` URL read into connection settings and a
//! TLS policy.
//!
//! The policy is stricter than libpq's, because what travels is who
//! subscribed: TLS, where asked for at all (`require`, `verify-ca`,
//! `verify-full`), always verifies the server's certificate chain *and*
//! name (rustls cannot do less). Without TLS (`disable`, or no `sslmode` /
//! `prefer` / `allow`) a connection may only go to a loopback address or a
//! Unix socket; to any other host the URL must say `sslmode=disable`
//! outright, so that nobody sends the state in plain text by omission.
//! `sslrootcert=/absolute/path.pem` names the CA certificates to trust
//! instead of the system's (a server with its own CA).

use std::net::IpAddr;
use std::path::PathBuf;

use tokio_postgres::config::{Host, SslMode};

/// A `postgres://` URL, read.
#[derive(Debug)]
pub struct PostgresUrl {
    /// Everything but TLS, which [`PostgresUrl::tls`] decides.
    pub config: tokio_postgres::Config,
    pub tls: Tls,
}

/// How the connection is protected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tls {
    /// Plain text: to loopback or a Unix socket, or where `sslmode=disable`
    /// is written.
    Off,
    /// TLS, the certificate verified against `roots` (the system's CA
    /// certificates when `None`) and the host's name.
    Verified { roots: Option<PathBuf> },
}

/// Reads `url`. The errors are one sentence each, for `check`'s message.
pub fn postgres_config(url: &str) -> Result<PostgresUrl, String> {
    let Some(rest) = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))
    else {
        return Err("not a `postgres://` URL".into());
    };
    // `sslmode` and `sslrootcert` are ours; the rest goes to tokio-postgres.
    let (head, query) = rest.split_once('?').unwrap_or((rest, ""));
    let mut kept = Vec::new();
    let mut mode = None;
    let mut roots = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_encoding::percent_decode_str(value)
            .decode_utf8()
            .map_err(|_| format!("`{key}` is not UTF-8 once decoded"))?;
        match key {
            "sslmode" => mode = Some(value.into_owned()),
            "sslrootcert" => {
                let path = PathBuf::from(value.as_ref());
                if !path.is_absolute() {
                    return Err(format!(
                        "`sslrootcert` must be an absolute path, not `{value}`"
                    ));
                }
                roots = Some(path);
            }
            "sslcert" | "sslkey" | "sslpassword" | "sslcrl" => {
                return Err(format!(
                    "`{key}` is not supported: mechcal authenticates with a password (`password_file`), not a client certificate"
                ))
            }
            _ => kept.push(pair),
        }
    }
    let scheme = &url[..url.len() - rest.len()];
    let plain = if kept.is_empty() {
        format!("{scheme}{head}")
    } else {
        format!("{scheme}{head}?{}", kept.join("&"))
    };
    let mut config: tokio_postgres::Config =
        plain.parse().map_err(|e: tokio_postgres::Error| {
            // The reason (`unknown option `x``) is the error's source.
            match std::error::Error::source(&e) {
                Some(reason) => format!("{e}: {reason}"),
                None => e.to_string(),
            }
        })?;
    let has_roots = roots.is_some();
    let tls = match mode.as_deref() {
        Some("disable") => Tls::Off,
        None | Some("allow" | "prefer") if local(&config) => Tls::Off,
        None | Some("allow" | "prefer") => {
            return Err(format!(
                "without `sslmode=verify-full` the connection to {} may fall back to plain text",
                hosts(&config)
            ))
        }
        Some("require" | "verify-ca" | "verify-full") => Tls::Verified { roots },
        Some(other) => {
            return Err(format!(
                "`sslmode={other}` is not one of disable, allow, prefer, require, verify-ca, verify-full"
            ))
        }
    };
    if tls == Tls::Off {
        if has_roots {
            return Err("`sslrootcert` is set but the connection does not use TLS".into());
        }
        config.ssl_mode(SslMode::Disable);
    } else {
        config.ssl_mode(SslMode::Require);
    }
    Ok(PostgresUrl { config, tls })
}

/// Whether every host the configuration may connect to is this machine.
fn local(config: &tokio_postgres::Config) -> bool {
    let loopback = |h: &str| {
        h == "localhost"
            || h.trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    };
    let addrs = config.get_hostaddrs();
    if !addrs.is_empty() {
        return addrs.iter().all(IpAddr::is_loopback);
    }
    config.get_hosts().iter().all(|h| match h {
        Host::Tcp(name) => loopback(name),
        Host::Unix(_) => true,
    })
}

/// The hosts, for an error.
fn hosts(config: &tokio_postgres::Config) -> String {
    let names: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|h| match h {
            Host::Tcp(name) => format!("`{name}`"),
            Host::Unix(path) => format!("`{}`", path.display()),
        })
        .collect();
    if names.is_empty() {
        "the server".into()
    } else {
        names.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tls(url: &str) -> Result<Tls, String> {
        postgres_config(url).map(|u| u.tls)
    }

    #[test]
    fn tls_is_verified_where_asked_and_plain_only_on_this_machine() {
        let verified = Ok(Tls::Verified { roots: None });
        for (url, expected) in [
            ("postgres://me@db.example/m?sslmode=verify-full", verified.clone()),
            ("postgres://me@db.example/m?sslmode=verify-ca", verified.clone()),
            // Stricter than libpq: `require` verifies too.
            ("postgres://me@db.example/m?sslmode=require", verified.clone()),
            ("postgresql://me@db.example:6432/m?sslmode=verify-full&application_name=x", verified.clone()),
            ("postgres://me@db.example/m?sslmode=disable", Ok(Tls::Off)),
            ("postgres://me@localhost/m", Ok(Tls::Off)),
            ("postgres://me@127.0.0.1:5433/m?sslmode=prefer", Ok(Tls::Off)),
            ("postgres://me@[::1]/m?sslmode=allow", Ok(Tls::Off)),
            ("postgres://me@%2Frun%2Fpostgresql/m", Ok(Tls::Off)),
            ("postgres://me@db.example/m?hostaddr=127.0.0.1", Ok(Tls::Off)),
            ("postgres://me@localhost/m?sslmode=verify-full", verified.clone()),
            (
                "postgres://me@db.example/m?sslmode=verify-full&sslrootcert=%2Fetc%2Fmechcal%2Fca.pem",
                Ok(Tls::Verified { roots: Some("/etc/mechcal/ca.pem".into()) }),
            ),
            (
                "postgres://me@db.example/m?sslrootcert=/etc/mechcal/ca.pem&sslmode=verify-full",
                Ok(Tls::Verified { roots: Some("/etc/mechcal/ca.pem".into()) }),
            ),
        ] {
            assert_eq!(tls(url), expected, "{url}");
        }
    }

    #[test]
    fn unsafe_or_unknown_settings_are_refused() {
        for (url, error) in [
            ("mysql://me@db.example/m", "not a `postgres://` URL"),
            ("postgres://me@db.example/m", "without `sslmode=verify-full` the connection to `db.example` may fall back to plain text"),
            ("postgres://me@db.example/m?sslmode=prefer", "may fall back to plain text"),
            ("postgres://me@localhost,db.example/m", "to `localhost`, `db.example` may fall back"),
            ("postgres://me@db.example/m?hostaddr=10.0.0.5", "may fall back"),
            ("postgres://me@db.example/m?sslmode=verify", "`sslmode=verify` is not one of"),
            ("postgres://me@db.example/m?sslmode=verify-full&sslrootcert=ca.pem", "`sslrootcert` must be an absolute path, not `ca.pem`"),
            ("postgres://me@localhost/m?sslrootcert=/ca.pem", "`sslrootcert` is set but the connection does not use TLS"),
            ("postgres://me@db.example/m?sslmode=verify-full&sslcert=/c.pem", "`sslcert` is not supported"),
            ("postgres://me@db.example/m?sslmode=verify-full&colour=blue", "invalid connection string: unknown option `colour`"),
        ] {
            let got = tls(url).unwrap_err();
            assert!(got.contains(error), "{url}: {got}");
        }
    }

    #[test]
    fn the_rest_of_the_url_reaches_the_connection() {
        let u = postgres_config(
            "postgres://me@db.example:6432/cal?sslmode=verify-full&sslrootcert=/ca.pem&connect_timeout=5",
        )
        .unwrap();
        assert_eq!(u.config.get_user(), Some("me"));
        assert_eq!(u.config.get_dbname(), Some("cal"));
        assert_eq!(u.config.get_ports(), [6432]);
        assert_eq!(
            u.config.get_connect_timeout(),
            Some(&std::time::Duration::from_secs(5))
        );
        assert_eq!(u.config.get_ssl_mode(), SslMode::Require);
        let plain = postgres_config("postgres://me@localhost/cal").unwrap();
        assert_eq!(plain.config.get_ssl_mode(), SslMode::Disable);
    }
}
