//! Delivering reminder messages: the transports, and one reminder pass that
//! keeps the ledger true whatever fails.
//!
//! The ledger discipline: a message's rows are written `sending` (with its
//! Message-ID) before the message is handed to the transport, and `sent`
//! after the transport accepted it. A run that dies in between leaves them
//! `sending`; the next run sends exactly those messages again, with the same
//! Message-ID, before planning anything new. So nothing is lost, and a
//! duplicate, if any, is recognisable by its Message-ID (at-least-once).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use lettre::message::Mailbox;
use sha2::{Digest, Sha256};

use crate::load::subscribers::{self, Subscriber};
use crate::model::catalog::Catalog;
use crate::model::deadline::Deadline;
use crate::reminders::message::{self, Letterhead};
use crate::reminders::plan::{self, Item, Key, State as RowState};
use crate::reminders::tokens::Secret;
use crate::render::feed::{FeedOptions, Versions};
use crate::state::{State, StateError};

/// Why a message did not go out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// Worth trying again (4xx, connection trouble, a full disk).
    Transient(String),
    /// Refused for good (5xx for the recipient).
    Permanent(String),
}

/// Somewhere messages can be handed to.
pub trait Transport {
    fn send(
        &self,
        message_id: &str,
        message: &lettre::Message,
    ) -> impl std::future::Future<Output = Result<(), SendError>> + Send;
}

/// A Maildir (`tmp/`, `new/`, `cur/`, created 0700, messages 0600): each message is written to `tmp/`
/// and renamed into `new/`, under a name derived from its Message-ID, so a
/// message sent again replaces its first copy instead of adding one.
pub struct Maildir {
    dir: PathBuf,
}

impl Maildir {
    pub fn open(dir: &Path) -> std::io::Result<Maildir> {
        for sub in ["tmp", "new", "cur"] {
            crate::os::private::create_dir_all(&dir.join(sub))?;
        }
        Ok(Maildir {
            dir: dir.to_path_buf(),
        })
    }

    fn name(message_id: &str) -> String {
        let hash = Sha256::digest(message_id.as_bytes());
        let hex: String = hash[..12].iter().map(|b| format!("{b:02x}")).collect();
        format!("{hex}.mechcal")
    }
}

impl Transport for Maildir {
    async fn send(&self, message_id: &str, message: &lettre::Message) -> Result<(), SendError> {
        let name = Self::name(message_id);
        let tmp = self.dir.join("tmp").join(&name);
        let write = || -> std::io::Result<()> {
            use std::io::Write as _;
            let mut f = crate::os::private::create_file(&tmp)?;
            f.write_all(&message.formatted())?;
            f.sync_all()?;
            std::fs::rename(&tmp, self.dir.join("new").join(&name))
        };
        write().map_err(|e| SendError::Transient(format!("cannot write to the maildir: {e}")))
    }
}

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
    pub fn new(c: &crate::load::config::SmtpConfig) -> Result<Smtp, String> {
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
                    (Some(var), _) => std::env::var(var)
                        .map_err(|_| format!("the SMTP password variable {var} is not set"))?,
                    (None, Some(file)) => std::fs::read_to_string(file)
                        .map_err(|e| {
                            format!("cannot read the SMTP password file {}: {e}", file.display())
                        })?
                        .trim_end_matches(['\r', '\n'])
                        .to_string(),
                    (None, None) => return Err("no SMTP password source".into()),
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

    async fn send_on_connection(&self, message: &lettre::Message) -> Result<(), SendError> {
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
        match conn.send(message.envelope(), &message.formatted()).await {
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
        let exchange = async { self.send_on_connection(message).await };
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
fn tls_client_config() -> Result<Arc<rustls::ClientConfig>, String> {
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
        return Err(format!(
            "no CA certificates to verify the SMTP relay with{why}"
        ));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
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

/// The configured transport.
pub enum Mailer {
    Maildir(Maildir),
    Smtp(Box<Smtp>),
}

impl Mailer {
    pub fn new(t: &crate::load::config::Transport) -> Result<Mailer, String> {
        match t {
            crate::load::config::Transport::Maildir(dir) => Maildir::open(dir)
                .map(Mailer::Maildir)
                .map_err(|e| format!("cannot open the maildir {}: {e}", dir.display())),
            crate::load::config::Transport::Smtp(c) => {
                Smtp::new(c).map(|s| Mailer::Smtp(Box::new(s)))
            }
        }
    }
}

impl Transport for Mailer {
    async fn send(&self, message_id: &str, message: &lettre::Message) -> Result<(), SendError> {
        match self {
            Mailer::Maildir(m) => m.send(message_id, message).await,
            Mailer::Smtp(s) => s.send(message_id, message).await,
        }
    }
}

/// What a pass needs besides the ledger and the transport.
pub struct Pass<'a> {
    pub catalog: &'a Catalog,
    pub subscribers: &'a [Subscriber],
    pub from: &'a Mailbox,
    pub domain: &'a str,
    /// Ends in `/`; the unsubscribe links start with it.
    pub base_url: &'a str,
    pub secret: &'a Secret,
    pub feed: &'a FeedOptions,
    pub versions: &'a Versions,
    /// Waits between tries of a transient failure within the pass.
    pub backoff: &'a [Duration],
    /// A message refused for good (5xx) is marked failed once its rows have
    /// been tried this many times; before that it waits for the next pass.
    pub max_attempts: u32,
    /// Set when the process is stopping: the message being sent is
    /// finished and recorded, and no other is started (the next pass plans
    /// them again, so nothing is lost).
    pub stop: Option<&'a std::sync::atomic::AtomicBool>,
}

impl Pass<'_> {
    fn stopping(&self) -> bool {
        self.stop
            .is_some_and(|s| s.load(std::sync::atomic::Ordering::SeqCst))
    }
}

/// What a pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Messages accepted by the transport (including resent ones).
    pub sent: usize,
    /// Of those, messages sent again after an interrupted run.
    pub resent: usize,
    /// Reminders recorded as skipped.
    pub skipped: usize,
    /// Messages refused for good.
    pub failed: usize,
    /// Messages left `sending` for the next pass (transient failures).
    pub deferred: usize,
    /// How long each hand-over to the transport took, failed ones too.
    pub send_times: Vec<Duration>,
    /// The pass stopped early because the process is stopping.
    pub interrupted: bool,
}

/// The unsubscribe link of an address.
pub fn unsubscribe_url(base_url: &str, secret: &Secret, email: &str) -> String {
    format!("{base_url}unsubscribe?token={}", secret.token(email))
}

/// One reminder pass at `now`: resend what an earlier pass left `sending`,
/// then plan, record skips, and send each planned message.
pub async fn run<T: Transport>(
    pass: &Pass<'_>,
    state: &mut State,
    transport: &T,
    now: DateTime<Utc>,
) -> Result<Outcome, StateError> {
    let mut outcome = Outcome::default();
    let opted_out = state.opted_out()?;
    let by_email: HashMap<String, usize> = pass
        .subscribers
        .iter()
        .enumerate()
        .map(|(i, s)| (s.key(), i))
        .collect();

    // 1. Messages an earlier pass did not finish, with their own Message-ID.
    for (message_id, keys) in state.sending()? {
        if pass.stopping() {
            outcome.interrupted = true;
            return Ok(outcome);
        }
        let subscriber = keys.first().and_then(|k| by_email.get(&k.email)).copied();
        let items: Vec<Item> = keys
            .iter()
            .map(|k| Item {
                key: k.clone(),
                days_left: pass
                    .catalog
                    .get(&k.deadline)
                    .map_or(0, |d| d.days_left(now)),
                moved_from: None,
            })
            .collect();
        let usable = subscriber.filter(|&i| {
            !opted_out.contains(&pass.subscribers[i].key())
                && items
                    .iter()
                    .all(|i| pass.catalog.get(&i.key.deadline).is_some())
        });
        let Some(index) = usable else {
            // The subscriber or a deadline is gone, or they opted out:
            // nothing to send, and nothing to keep waiting for.
            state.record(
                &keys,
                RowState::Skipped,
                None,
                Some("subscriber or deadline gone"),
                now,
            )?;
            outcome.skipped += keys.len();
            continue;
        };
        let sent = send_message(
            pass,
            state,
            transport,
            index,
            &items,
            &message_id,
            now,
            &mut outcome,
        )
        .await?;
        if sent {
            outcome.resent += 1;
        }
    }

    // 2. This pass's plan.
    let ledger = state.ledger()?;
    let planned = plan::plan(pass.catalog, pass.subscribers, &ledger, &opted_out, now);
    if !planned.skipped.is_empty() {
        state.record(&planned.skipped, RowState::Skipped, None, None, now)?;
        outcome.skipped += planned.skipped.len();
    }
    for m in &planned.messages {
        if pass.stopping() {
            outcome.interrupted = true;
            break;
        }
        let keys: Vec<&Key> = m.items.iter().map(|i| &i.key).collect();
        let message_id = message::message_id(&keys, pass.domain);
        send_message(
            pass,
            state,
            transport,
            m.subscriber,
            &m.items,
            &message_id,
            now,
            &mut outcome,
        )
        .await?;
    }
    Ok(outcome)
}

/// Records, builds and sends one message; returns whether it went out.
#[allow(clippy::too_many_arguments)]
async fn send_message<T: Transport>(
    pass: &Pass<'_>,
    state: &mut State,
    transport: &T,
    subscriber: usize,
    items: &[Item],
    message_id: &str,
    now: DateTime<Utc>,
    outcome: &mut Outcome,
) -> Result<bool, StateError> {
    let s = &pass.subscribers[subscriber];
    let keys: Vec<Key> = items.iter().map(|i| i.key.clone()).collect();
    state.record(&keys, RowState::Sending, Some(message_id), None, now)?;
    let with_deadlines: Vec<(&Item, &Deadline)> = items
        .iter()
        .filter_map(|i| pass.catalog.get(&i.key.deadline).map(|d| (i, d)))
        .collect();
    let url = unsubscribe_url(pass.base_url, pass.secret, &s.email);
    let head = Letterhead {
        from: pass.from,
        domain: pass.domain,
        unsubscribe_url: &url,
        feed: pass.feed,
        versions: pass.versions,
    };
    let message = match message::build(pass.catalog, s, &with_deadlines, &head, message_id, now) {
        Ok(m) => m,
        Err(e) => {
            tracing::error!(to = %subscribers::mask(&s.email), "cannot build a reminder: {e}");
            state.record(&keys, RowState::Failed, None, Some(&e), now)?;
            outcome.failed += 1;
            return Ok(false);
        }
    };
    // Retry policy: a transient failure is tried again after each wait in
    // `backoff`; after the last, the rows stay `sending` and the next pass
    // sends the same message again. A permanent failure fails the rows.
    let mut waits = pass.backoff.iter();
    loop {
        let started = std::time::Instant::now();
        let sent = transport.send(message_id, &message).await;
        outcome.send_times.push(started.elapsed());
        match sent {
            Ok(()) => {
                state.record(&keys, RowState::Sent, None, None, now)?;
                outcome.sent += 1;
                tracing::info!(to = %subscribers::mask(&s.email), items = keys.len(), "reminder sent");
                return Ok(true);
            }
            Err(SendError::Permanent(e)) => {
                if state.attempts(&keys)? < i64::from(pass.max_attempts) {
                    tracing::warn!(to = %subscribers::mask(&s.email), "reminder refused, will try again next pass: {e}");
                    state.record(&keys, RowState::Sending, None, Some(&e), now)?;
                    outcome.deferred += 1;
                } else {
                    tracing::warn!(to = %subscribers::mask(&s.email), "reminder refused for good: {e}");
                    state.record(&keys, RowState::Failed, None, Some(&e), now)?;
                    outcome.failed += 1;
                }
                return Ok(false);
            }
            Err(SendError::Transient(e)) => match waits.next() {
                Some(wait) => {
                    tracing::warn!(to = %subscribers::mask(&s.email), "reminder deferred, retrying: {e}");
                    tokio::time::sleep(*wait).await;
                }
                None => {
                    tracing::warn!(to = %subscribers::mask(&s.email), "reminder deferred to the next pass: {e}");
                    state.record(&keys, RowState::Sending, None, Some(&e), now)?;
                    outcome.deferred += 1;
                    return Ok(false);
                }
            },
        }
    }
}
