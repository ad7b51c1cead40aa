//! The unsubscribe secret (the key of every signed link, see
//! [`crate::subscriptions::links`]), and the unsubscribe tokens of mails
//! sent before signed links, which keep working: opaque,
//! `hex(HMAC-SHA256(secret, "mechcal subscriber\n" + address))[..32]`.
//!
//! A token carries no address in any encoding: a reverse proxy's access log,
//! a browser's history or a forwarded mail shows 32 hex digits that only the
//! server, holding the secret and the subscribers, can turn back into the
//! address it was made for (a [`Directory`] of the current subscribers'
//! tokens). Only the server can make a valid token, so a link cannot be
//! forged for somebody else's address and addresses cannot be enumerated by
//! guessing; a token that does not verify reveals nothing about why.
//!
//! Links in mails sent before opaque tokens (`hex(address).hex(HMAC)`) keep
//! working: they still verify, and name the address themselves.

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
        let credential = crate::os::credentials::path(crate::os::credentials::UNSUBSCRIBE_SECRET);
        let file = credential.as_deref().unwrap_or(file);
        crate::os::private::read_or_create_key(file, 32, "the unsubscribe secret").map(Secret)
    }

    fn mac(&self, purpose: &[u8], email: &str) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(purpose);
        mac.update(email.as_bytes());
        mac
    }

    /// The HMAC of `data` under `purpose` (for the links of
    /// [`crate::subscriptions::links`]).
    pub(crate) fn sign(&self, purpose: &[u8], data: &[u8]) -> [u8; 32] {
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(purpose);
        mac.update(data);
        mac.finalize().into_bytes().into()
    }

    /// Whether `tag` is the first bytes (at least 16) of the HMAC of
    /// `data` under `purpose`, compared in constant time by `hmac` itself.
    pub(crate) fn verify_signed(&self, purpose: &[u8], data: &[u8], tag: &[u8]) -> bool {
        if tag.len() < 16 {
            return false;
        }
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(purpose);
        mac.update(data);
        mac.verify_truncated_left(tag).is_ok()
    }

    /// The HMAC of a lower-cased address under `purpose`.
    fn tag(&self, purpose: &[u8], email: &str) -> Vec<u8> {
        self.mac(purpose, &email.to_lowercase())
            .finalize()
            .into_bytes()
            .to_vec()
    }

    /// The token of an address (compared in lower case): 128 bits of an
    /// HMAC under a purpose of its own, so it is no other tag of mechcal's.
    pub fn token(&self, email: &str) -> String {
        hex(&self.tag(OPAQUE, email)[..TOKEN_BYTES])
    }

    /// The address a token was made for, if it verifies: an opaque token
    /// of one of `known`, or a token of the old form (which names its
    /// address, and is checked against its HMAC).
    pub fn verify(&self, token: &str, known: &Directory) -> Option<String> {
        match token.split_once('.') {
            None => known.0.get(token).cloned(),
            Some((address, tag)) => {
                let email = String::from_utf8(unhex(address)?).ok()?;
                let tag = unhex(tag)?;
                self.mac(LEGACY, &email).verify_slice(&tag).ok()?;
                Some(email)
            }
        }
    }

    /// The old form of a token, `hex(address).hex(HMAC)`, as mails sent
    /// before opaque tokens carry it (for tests of those links).
    pub fn legacy_token(&self, email: &str) -> String {
        let tag = self.tag(LEGACY, email);
        format!("{}.{}", hex(email.to_lowercase().as_bytes()), hex(&tag))
    }
}

/// The HMAC purposes: of opaque tokens, and of the old `address.tag` form.
const OPAQUE: &[u8] = b"mechcal subscriber\n";
const LEGACY: &[u8] = b"mechcal unsubscribe\n";

/// How many bytes of the HMAC a token keeps (128 bits: not guessable).
const TOKEN_BYTES: usize = 16;

/// The tokens of the current subscribers, to turn an opaque token back into
/// its address. Rebuilt whenever the subscribers are (start, SIGHUP).
#[derive(Clone, Default)]
pub struct Directory(std::collections::HashMap<String, String>);

impl fmt::Debug for Directory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Directory({} tokens)", self.0.len())
    }
}

impl Directory {
    pub fn new<'a>(secret: &Secret, emails: impl IntoIterator<Item = &'a str>) -> Directory {
        Directory(
            emails
                .into_iter()
                .map(|e| (secret.token(e), e.to_lowercase()))
                .collect(),
        )
    }
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bytes of lower- or upper-case hex (at most 512 bytes' worth).
pub(crate) fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || s.len() > 1024 {
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
    fn tokens_are_opaque() {
        let secret = Secret::new(*b"0123456789abcdef0123456789abcdef");
        let token = secret.token("Anna@Example.org");
        assert_eq!(token.len(), 32);
        assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(token, secret.token("anna@example.org"));
        // No encoding of the address: not hex, not base64, not in clear.
        for form in [
            hex(b"anna@example.org"),
            "anna".to_string(),
            "YW5uYU".to_string(),
        ] {
            assert!(!token.contains(&form[..8.min(form.len())]), "{token}");
        }
        let known = Directory::new(&secret, ["Anna@Example.org", "boris@example.org"]);
        assert_eq!(
            secret.verify(&token, &known).as_deref(),
            Some("anna@example.org")
        );
        // Not a subscriber (any more), another server, a changed digit.
        assert_eq!(secret.verify(&token, &Directory::default()), None);
        let other = Secret::new(*b"another secret, another server!!");
        assert_eq!(
            other.verify(&token, &Directory::new(&other, ["anna@example.org"])),
            None
        );
        let mut changed = token.clone().into_bytes();
        changed[0] = if changed[0] == b'0' { b'1' } else { b'0' };
        assert_eq!(
            secret.verify(&String::from_utf8(changed).unwrap(), &known),
            None
        );
    }

    #[test]
    fn tokens_verify_and_resist_tampering() {
        let secret = Secret::new(*b"0123456789abcdef0123456789abcdef");
        let known = Directory::default();
        // Links in mails sent before opaque tokens keep working.
        let token = secret.legacy_token("Anna@Example.org");
        assert_eq!(
            secret.verify(&token, &known).as_deref(),
            Some("anna@example.org")
        );
        let other = Secret::new(*b"another secret, another server!!");
        assert_eq!(other.verify(&token, &known), None);
        // Somebody else's address with this tag.
        let (_, tag) = token.split_once('.').unwrap();
        assert_eq!(
            secret.verify(&format!("{}.{tag}", hex(b"boris@example.org")), &known),
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
            assert_eq!(secret.verify(bad, &known), None, "{bad}");
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
