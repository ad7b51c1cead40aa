//! Where reminder messages are handed to: a Maildir or an SMTP relay, each
//! in its file, behind one [`Transport`] trait so a pass (and its tests)
//! does not care which.

pub mod dkim;
pub mod maildir;
mod smtp;

pub use maildir::Maildir;
pub(crate) use smtp::tls_client_config;
pub use smtp::Smtp;

use std::path::PathBuf;

use crate::load::config;
use crate::state::StateError;

/// Why reminders cannot run at all (checked when `serve` starts, and by
/// `remind` before its pass).
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    State(#[from] StateError),
    #[error("cannot read the unsubscribe secret {}: {source}", .path.display())]
    Secret {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read the address key {}: {source}", .path.display())]
    AddressKey {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("`[mail] from`: {0}")]
    From(lettre::address::AddressError),
    #[error("cannot open the maildir {}: {source}", .path.display())]
    Maildir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the SMTP password variable {0} is not set")]
    PasswordVariable(String),
    #[error("cannot read the SMTP password file {}: {source}", .path.display())]
    PasswordFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no SMTP password source")]
    NoPassword,
    #[error("no CA certificates to verify the SMTP relay with{0}")]
    NoCertificates(String),
    #[error("TLS: {0}")]
    Tls(#[from] rustls::Error),
    #[error(transparent)]
    Dkim(#[from] dkim::DkimError),
}

/// Why a message did not go out, in the relay's or the system's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth trying again (4xx, connection trouble, a full disk).
    #[error("{0} (will be tried again)")]
    Transient(String),
    /// Refused for good (5xx for the recipient).
    #[error("{0} (refused)")]
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

/// The configured transport, and the DKIM signer when `[mail.dkim]` is
/// set: every message sent through a `Mailer` — reminders, notices,
/// sign-up mails, staff alerts — is signed on the way out.
pub struct Mailer {
    to: To,
    dkim: Option<dkim::Dkim>,
}

enum To {
    Maildir(Maildir),
    Smtp(Box<Smtp>),
}

impl Mailer {
    /// The transport and signer of `[mail]`; a DKIM key that cannot be
    /// read is an error here, so it stops the start.
    pub fn new(mail: &config::MailConfig) -> Result<Mailer, SetupError> {
        let dkim = mail.dkim.as_ref().map(dkim::Dkim::load).transpose()?;
        Ok(Mailer {
            to: Self::transport(&mail.transport)?,
            dkim,
        })
    }

    fn transport(t: &config::Transport) -> Result<To, SetupError> {
        match t {
            config::Transport::Maildir(dir) => {
                Maildir::open(dir)
                    .map(To::Maildir)
                    .map_err(|source| SetupError::Maildir {
                        path: dir.clone(),
                        source,
                    })
            }
            config::Transport::Smtp(c) => Smtp::new(c).map(|s| To::Smtp(Box::new(s))),
        }
    }
}

impl Transport for Mailer {
    async fn send(&self, message_id: &str, message: &lettre::Message) -> Result<(), SendError> {
        let mut bytes = message.formatted();
        if let Some(d) = &self.dkim {
            bytes = d.sign(&bytes);
        }
        match &self.to {
            To::Maildir(m) => m.send_raw(message_id, &bytes),
            To::Smtp(s) => s.send_raw(message.envelope(), &bytes).await,
        }
    }
}
