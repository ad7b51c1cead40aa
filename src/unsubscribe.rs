//! Unsubscribe tokens: `hex(address).hex(HMAC-SHA256(secret, address))`.
//!
//! Only the server can make a valid token, so a link cannot be forged for
//! somebody else's address and addresses cannot be enumerated by guessing;
//! a token that does not verify reveals nothing about why.

use std::fmt;
use std::path::Path;

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The signing key. Its `Debug` never shows it.
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// The environment variable that may hold the secret (takes precedence over
/// the file).
pub const SECRET_ENV: &str = "MECHCAL_UNSUBSCRIBE_SECRET";

impl Secret {
    pub fn new(bytes: impl Into<Vec<u8>>) -> Secret {
        Secret(bytes.into())
    }

    /// The secret from `MECHCAL_UNSUBSCRIBE_SECRET`, else from the systemd
    /// credential `unsubscribe-secret`, else from `file`; a
    /// missing file is created with 32 random bytes, readable by its owner
    /// only (so a fresh install works, and the secret survives restarts).
    pub fn load(file: &Path) -> std::io::Result<Secret> {
        if let Ok(v) = std::env::var(SECRET_ENV) {
            if v.len() >= 16 {
                return Ok(Secret(v.into_bytes()));
            }
            return Err(std::io::Error::other(format!(
                "{SECRET_ENV} must hold at least 16 characters"
            )));
        }
        let credential = crate::credentials::path(crate::credentials::UNSUBSCRIBE_SECRET);
        let file = credential.as_deref().unwrap_or(file);
        match std::fs::read(file) {
            Ok(bytes) if bytes.len() >= 16 => Ok(Secret(bytes)),
            Ok(_) => Err(std::io::Error::other(format!(
                "the unsubscribe secret in {} is shorter than 16 bytes",
                file.display()
            ))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut bytes = vec![0u8; 32];
                std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut bytes)?;
                if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)?;
                }
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                std::io::Write::write_all(&mut options.open(file)?, &bytes)?;
                Ok(Secret(bytes))
            }
            Err(e) => Err(e),
        }
    }

    fn mac(&self, email: &str) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(b"mechcal unsubscribe\n");
        mac.update(email.as_bytes());
        mac
    }

    /// The token of an address (compared in lower case).
    pub fn token(&self, email: &str) -> String {
        let email = email.to_lowercase();
        let tag = self.mac(&email).finalize().into_bytes();
        format!("{}.{}", hex(email.as_bytes()), hex(&tag))
    }

    /// The address a token was made for, if it verifies.
    pub fn verify(&self, token: &str) -> Option<String> {
        let (address, tag) = token.split_once('.')?;
        let email = String::from_utf8(unhex(address)?).ok()?;
        let tag = unhex(tag)?;
        self.mac(&email).verify_slice(&tag).ok()?;
        Some(email)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 || s.len() > 1024 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_and_resist_tampering() {
        let secret = Secret::new(*b"0123456789abcdef0123456789abcdef");
        let token = secret.token("Anna@Example.org");
        assert_eq!(secret.verify(&token).as_deref(), Some("anna@example.org"));
        let other = Secret::new(*b"another secret, another server!!");
        assert_eq!(other.verify(&token), None);
        // Somebody else's address with this tag.
        let (_, tag) = token.split_once('.').unwrap();
        assert_eq!(
            secret.verify(&format!("{}.{tag}", hex(b"boris@example.org"))),
            None
        );
        for bad in [
            "",
            ".",
            "zz.zz",
            "abc",
            &token[..token.len() - 2],
            &format!("{token}00"),
            "é.é",
        ] {
            assert_eq!(secret.verify(bad), None, "{bad}");
        }
        assert_eq!(format!("{secret:?}"), "Secret(..)");
    }

    #[test]
    fn a_missing_secret_file_is_created_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("var/unsubscribe.secret");
        let a = Secret::load(&file).unwrap();
        let b = Secret::load(&file).unwrap();
        assert_eq!(a.token("x@example.org"), b.token("x@example.org"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
    }
}
