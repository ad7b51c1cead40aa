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
    /// Deletes every message to `email` (its `To:`, compared as one
    /// subscriber is: case and IDNA form aside) from `new/`, `cur/` and
    /// `tmp/`, for "delete everything"; returns how many went.
    pub fn forget(&self, email: &str) -> std::io::Result<usize> {
        let wanted = crate::subscriptions::keys::canonical(email);
        let mut n = 0;
        for sub in ["new", "cur", "tmp"] {
            for entry in std::fs::read_dir(self.dir.join(sub))? {
                let path = entry?.path();
                let Ok(bytes) = std::fs::read(&path) else {
                    continue;
                };
                if recipients(&bytes).contains(&wanted) {
                    std::fs::remove_file(&path)?;
                    n += 1;
                }
            }
        }
        Ok(n)
    }

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

/// The addresses of a message's `To:` header (unfolded), canonical.
fn recipients(message: &[u8]) -> Vec<String> {
    let end = message
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(message.len());
    let head = String::from_utf8_lossy(&message[..end])
        .replace("\r\n ", " ")
        .replace("\r\n\t", " ");
    head.split("\r\n")
        .filter_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.trim().eq_ignore_ascii_case("to").then_some(value)
        })
        .flat_map(|value| value.split(','))
        .map(|a| {
            let a = a.trim();
            let a = match (a.rfind('<'), a.rfind('>')) {
                (Some(s), Some(e)) if s < e => &a[s + 1..e],
                _ => a,
            };
            crate::subscriptions::keys::canonical(a)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// "Delete everything" takes the person's mails out of every folder,
    /// whatever the case of their address, and leaves others' alone.
    #[test]
    fn forgetting_removes_a_persons_mails_only() {
        let dir = tempfile::tempdir().unwrap();
        let m = Maildir::open(dir.path()).unwrap();
        let mail = |to: &str| {
            format!("From: a@b\r\nTo: {to}\r\nSubject: x\r\n\r\nTo: anna@example.org\r\n")
        };
        m.send_raw("<1@x>", mail("anna@example.org").as_bytes())
            .unwrap();
        m.send_raw("<2@x>", mail("\"Anna\" <Anna@Example.ORG>").as_bytes())
            .unwrap();
        m.send_raw("<3@x>", mail("boris@example.org").as_bytes())
            .unwrap();
        std::fs::write(dir.path().join("cur/old:2,S"), mail("anna@example.org")).unwrap();
        assert_eq!(m.forget("anna@example.org").unwrap(), 3);
        let left: Vec<_> = std::fs::read_dir(dir.path().join("new")).unwrap().collect();
        assert_eq!(left.len(), 1, "boris's mail stays");
        assert_eq!(m.forget("anna@example.org").unwrap(), 0);
    }
}
