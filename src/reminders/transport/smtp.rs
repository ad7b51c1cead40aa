//! An SMTP relay (STARTTLS, implicit TLS, or none on loopback only).

use std::sync::Arc;
use std::time::Duration;

use super::{SendError, SetupError, Transport};

/// An SMTP relay through lettre's SMTP client (rustls).
///
/// mechcal opens the TCP connection itself, with `TCP_NODELAY` (and, for
/// implicit TLS, wraps it in TLS itself), and keeps it open across messages:
/// lettre writes a message's body and its final `.` separately and sets no
/// `TCP_NODELAY`, so with its own connections every message waited for a
/// delayed ACK (~40 ms; see benches/smtp.rs). lettre's timeout covers
/// connecting only, so each whole exchange is bounded here.
pub struct Smtp {
    host: String,
    port: u16,
    tls: crate::load::config::SmtpTls,
    timeout: Duration,
    credentials: Option<lettre::transport::smtp::authentication::Credentials>,
    hello: lettre::transport::smtp::extension::ClientId,
    connection: tokio::sync::Mutex<Option<lettre::transport::smtp::client::AsyncSmtpConnection>>,
    /// For implicit TLS: the client config (the system's roots).
    implicit_tls: Option<Arc<rustls::ClientConfig>>,
}

impl Smtp {
    /// Builds the transport; reads the password from its environment
    /// variable or file.
    pub fn new(c: &crate::load::config::SmtpConfig) -> Result<Smtp, SetupError> {
        use crate::load::config::SmtpTls;
        use lettre::transport::smtp::authentication::Credentials;
        let credentials = match &c.username {
            None => None,
            Some(user) => {
                let credential =
                    crate::os::credentials::path(crate::os::credentials::SMTP_PASSWORD);
                let password = match (
                    &c.password_env,
                    credential.as_ref().or(c.password_file.as_ref()),
                ) {
                    (Some(var), _) => {
                        std::env::var(var).map_err(|_| SetupError::PasswordVariable(var.clone()))?
                    }
                    (None, Some(file)) => std::fs::read_to_string(file)
                        .map_err(|source| SetupError::PasswordFile {
                            path: file.clone(),
                            source,
                        })?
                        .trim_end_matches(['\r', '\n'])
                        .to_string(),
                    (None, None) => return Err(SetupError::NoPassword),
                };
                Some(Credentials::new(user.clone(), password))
            }
        };
        let implicit_tls = match c.tls {
            SmtpTls::Implicit => Some(tls_client_config()?),
            SmtpTls::Starttls | SmtpTls::None => None,
        };
        Ok(Smtp {
            host: c.host.clone(),
            port: c.port,
            tls: c.tls,
            timeout: c.timeout,
            credentials,
            hello: lettre::transport::smtp::extension::ClientId::default(),
            connection: tokio::sync::Mutex::new(None),
            implicit_tls,
        })
    }

    /// A new connection: TCP with `TCP_NODELAY`, greeting, STARTTLS when
    /// required, login when configured.
    async fn connect(
        &self,
    ) -> Result<lettre::transport::smtp::client::AsyncSmtpConnection, SendError> {
        use lettre::transport::smtp::authentication::Mechanism;
        use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
        let tcp = tokio::net::TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|e| {
                SendError::Transient(format!(
                    "cannot connect to {}:{}: {e}",
                    self.host, self.port
                ))
            })?;
        let _ = tcp.set_nodelay(true);
        let smtp_error = |e: lettre::transport::smtp::Error| {
            if e.is_permanent() {
                SendError::Permanent(e.to_string())
            } else {
                SendError::Transient(e.to_string())
            }
        };
        let stream: Box<dyn lettre::transport::smtp::client::AsyncTokioStream> = match &self
            .implicit_tls
        {
            None => Box::new(tcp),
            Some(config) => {
                let name = rustls::pki_types::ServerName::try_from(self.host.clone())
                    .map_err(|e| SendError::Transient(format!("{}: {e}", self.host)))?;
                let tls = tokio_rustls::TlsConnector::from(config.clone())
                    .connect(name, tcp)
                    .await
                    .map_err(|e| {
                        SendError::Transient(format!("TLS with {}:{}: {e}", self.host, self.port))
                    })?;
                Box::new(TlsTcp(tls))
            }
        };
        let mut conn = AsyncSmtpConnection::connect_with_transport(stream, &self.hello)
            .await
            .map_err(smtp_error)?;
        if self.tls == crate::load::config::SmtpTls::Starttls {
            if !conn.can_starttls() {
                return Err(SendError::Transient(format!(
                    "{} offers no STARTTLS, and `tls = \"starttls\"` requires it",
                    self.host
                )));
            }
            let params = TlsParameters::new(self.host.clone())
                .map_err(|e| SendError::Transient(e.to_string()))?;
            conn.starttls(params, &self.hello)
                .await
                .map_err(smtp_error)?;
        }
        if let Some(cred) = &self.credentials {
            conn.auth(&[Mechanism::Plain, Mechanism::Login], cred)
                .await
                .map_err(smtp_error)?;
        }
        Ok(conn)
    }

    async fn send_on_connection(
        &self,
        envelope: &lettre::address::Envelope,
        bytes: &[u8],
    ) -> Result<(), SendError> {
        let mut slot = self.connection.lock().await;
        if let Some(conn) = slot.as_mut() {
            if !conn.test_connected().await {
                *slot = None;
            }
        }
        if slot.is_none() {
            *slot = Some(self.connect().await?);
        }
        let conn = slot.as_mut().expect("connected above");
        match conn.send(envelope, bytes).await {
            Ok(_) => Ok(()),
            Err(e) => {
                // Start the next message on a fresh connection.
                *slot = None;
                if e.is_permanent() {
                    Err(SendError::Permanent(e.to_string()))
                } else {
                    Err(SendError::Transient(e.to_string()))
                }
            }
        }
    }
}

impl Transport for Smtp {
    async fn send(&self, _message_id: &str, message: &lettre::Message) -> Result<(), SendError> {
        self.send_raw(message.envelope(), &message.formatted())
            .await
    }
}

impl Smtp {
    /// Sends the message `bytes` to `envelope`'s recipients, within the
    /// timeout.
    pub async fn send_raw(
        &self,
        envelope: &lettre::address::Envelope,
        bytes: &[u8],
    ) -> Result<(), SendError> {
        let exchange = async { self.send_on_connection(envelope, bytes).await };
        match tokio::time::timeout(self.timeout, exchange).await {
            Ok(result) => result,
            Err(_) => {
                // The connection is in an unknown state: drop it.
                *self.connection.lock().await = None;
                Err(SendError::Transient(format!(
                    "no answer from the SMTP server within {:?}",
                    self.timeout
                )))
            }
        }
    }
}

/// rustls with the system's CA certificates (`SSL_CERT_FILE` and
/// `SSL_CERT_DIR` replace them), as lettre's STARTTLS uses.
pub(crate) fn tls_client_config() -> Result<Arc<rustls::ClientConfig>, SetupError> {
    let mut roots = rustls::RootCertStore::empty();
    let found = rustls_native_certs::load_native_certs();
    for cert in found.certs {
        // A certificate rustls cannot use is skipped, as lettre does.
        let _ = roots.add(cert);
    }
    if roots.is_empty() {
        let why = found
            .errors
            .first()
            .map_or(String::new(), |e| format!(": {e}"));
        return Err(SetupError::NoCertificates(why));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// A TLS stream (implicit TLS) as lettre's transport.
#[derive(Debug)]
struct TlsTcp(tokio_rustls::client::TlsStream<tokio::net::TcpStream>);

impl tokio::io::AsyncRead for TlsTcp {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for TlsTcp {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

impl lettre::transport::smtp::client::AsyncTokioStream for TlsTcp {
    fn peer_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.0.get_ref().0.peer_addr()
    }
}
