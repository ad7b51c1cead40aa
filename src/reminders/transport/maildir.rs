//! A Maildir transport: what the quick start and the tests deliver to.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{SendError, Transport};

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
        self.send_raw(message_id, &message.formatted())
    }
}

impl Maildir {
    /// Writes the message `bytes` under `message_id`.
    pub fn send_raw(&self, message_id: &str, bytes: &[u8]) -> Result<(), SendError> {
        let name = Self::name(message_id);
        let tmp = self.dir.join("tmp").join(&name);
        let write = || -> std::io::Result<()> {
            use std::io::Write as _;
            let mut f = crate::os::private::create_file(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()?;
            std::fs::rename(&tmp, self.dir.join("new").join(&name))
        };
        write().map_err(|e| SendError::Transient(format!("cannot write to the maildir: {e}")))
    }
}
