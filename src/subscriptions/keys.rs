//! The address key (`[subscriptions] key_file`, or the systemd credential
//! `address-key`): 32 random bytes from which two keys are derived — one
//! that seals addresses and preferences (XChaCha20-Poly1305, an AEAD from
//! RustCrypto, with a random 192-bit nonce per record), and one that names
//! a subscriber by a keyed hash of the address (HMAC-SHA256, 128 bits, hex).
//!
//! Whoever copies the state database without this key learns no address
//! and cannot test a guessed one: the hash is keyed, so it is not the hash
//! of anything an outsider can compute. Losing the key loses the sealed
//! addresses and makes every ledger row unmatched (subscribers would be
//! reminded again): back it up with the database, apart from it.

use std::fmt;
use std::path::Path;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// How many bytes of the keyed hash name a subscriber (128 bits).
const ID_BYTES: usize = 16;
const NONCE_BYTES: usize = 24;

/// The two derived keys. `Debug` never shows them.
#[derive(Clone)]
pub struct AddressKey {
    seal: [u8; 32],
    index: [u8; 32],
}

impl fmt::Debug for AddressKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AddressKey(..)")
    }
}

/// An address as one subscriber is known by: trimmed, in lower case, its
/// domain in the ASCII form of UTS #46 (IDNA: `bücher.de` is
/// `xn--bcher-kva.de`, as mail servers see it). A domain that IDNA
/// refuses is kept in lower case (the form refuses such addresses
/// before they get here).
pub fn canonical(email: &str) -> String {
    let email = email.trim();
    match email.rsplit_once('@') {
        Some((local, domain)) => {
            let domain = idna::domain_to_ascii(domain).unwrap_or_else(|_| domain.to_lowercase());
            format!("{}@{domain}", local.to_lowercase())
        }
        None => email.to_lowercase(),
    }
}

impl AddressKey {
    /// Derives both keys from `master` (at least 16 bytes).
    pub fn new(master: &[u8]) -> AddressKey {
        let derive = |purpose: &[u8]| -> [u8; 32] {
            let mut mac =
                <HmacSha256 as Mac>::new_from_slice(master).expect("HMAC takes keys of any length");
            mac.update(purpose);
            mac.finalize().into_bytes().into()
        };
        AddressKey {
            seal: derive(b"mechcal address sealing\n"),
            index: derive(b"mechcal address index\n"),
        }
    }

    /// The key from the credential `address-key`, else from `file`; a
    /// missing file is created with 32 random bytes, readable by its owner
    /// only.
    pub fn load(file: &Path) -> std::io::Result<AddressKey> {
        let credential = crate::os::credentials::path(crate::os::credentials::ADDRESS_KEY);
        let file = credential.as_deref().unwrap_or(file);
        crate::os::private::read_or_create_key(file, 32, "the address key")
            .map(|bytes| AddressKey::new(&bytes))
    }

    /// A keyed tag of `data` for `purpose` (e.g. a reminder's Message-ID):
    /// HMAC-SHA256 under a key derived from the index key for that purpose
    /// alone, so that nobody without the address key can compute it from
    /// what a copied database or a relay's log shows.
    pub fn tag(&self, purpose: &str, data: &[u8]) -> [u8; 32] {
        let mut derive = <HmacSha256 as Mac>::new_from_slice(&self.index)
            .expect("HMAC takes keys of any length");
        derive.update(b"mechcal derived key\n");
        derive.update(purpose.as_bytes());
        let key = derive.finalize().into_bytes();
        let mut mac =
            <HmacSha256 as Mac>::new_from_slice(&key).expect("HMAC takes keys of any length");
        mac.update(data);
        mac.finalize().into_bytes().into()
    }

    /// The subscriber id of `email` (compared as [`canonical`] writes it:
    /// `Anna@Bücher.de` and `anna@xn--bcher-kva.de` are one subscriber):
    /// 32 hex digits, the subscriber's name in the state database.
    pub fn id(&self, email: &str) -> String {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.index)
            .expect("HMAC takes keys of any length");
        mac.update(canonical(email).as_bytes());
        crate::reminders::tokens::hex(&mac.finalize().into_bytes()[..ID_BYTES])
    }

    /// `plain` sealed for the row `id`: nonce ‖ ciphertext ‖ tag. The id is
    /// authenticated with it, so a sealed value copied to another row does
    /// not open there.
    pub fn seal(&self, id: &str, plain: &[u8]) -> Vec<u8> {
        let cipher = XChaCha20Poly1305::new((&self.seal).into());
        let mut nonce = [0u8; NONCE_BYTES];
        getrandom::fill(&mut nonce).expect("the system's random source works");
        let sealed = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: id.as_bytes(),
                },
            )
            .expect("XChaCha20-Poly1305 seals any length mechcal stores");
        let mut out = nonce.to_vec();
        out.extend(sealed);
        out
    }

    /// What [`seal`](Self::seal) sealed for `id`, if it is intact and was
    /// sealed under this key.
    pub fn open(&self, id: &str, sealed: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < NONCE_BYTES {
            return None;
        }
        let (nonce, body) = sealed.split_at(NONCE_BYTES);
        XChaCha20Poly1305::new((&self.seal).into())
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: id.as_bytes(),
                },
            )
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An internationalised domain keys one subscriber however it is
    /// written: Unicode, ACE (punycode) or mixed case.
    #[test]
    fn idn_domains_key_one_subscriber() {
        let k = AddressKey::new(b"0123456789abcdef0123456789abcdef");
        let id = k.id("user@bücher.de");
        for same in [
            "user@xn--bcher-kva.de",
            "USER@BÜCHER.DE",
            " user@XN--BCHER-KVA.de ",
        ] {
            assert_eq!(k.id(same), id, "{same}");
        }
        assert_ne!(k.id("user@bucher.de"), id);
        assert_eq!(canonical("Anna@Пример.рф"), "anna@xn--e1afmkfd.xn--p1ai");
        assert_eq!(canonical("not an address"), "not an address");
    }

    #[test]
    fn ids_are_keyed_and_case_blind() {
        let k = AddressKey::new(b"0123456789abcdef0123456789abcdef");
        let id = k.id("Anna@Example.org");
        assert_eq!(id.len(), 32);
        assert_eq!(id, k.id("anna@example.org"));
        assert_ne!(id, k.id("boris@example.org"));
        let other = AddressKey::new(b"another key, another server!!!!!");
        assert_ne!(id, other.id("anna@example.org"));
        // Not an unkeyed hash of the address.
        let plain: String = <Sha256 as sha2::Digest>::digest(b"anna@example.org")[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>();
        assert_ne!(id, plain);
        assert_eq!(format!("{k:?}"), "AddressKey(..)");
    }

    #[test]
    fn sealed_values_open_only_under_their_key_and_row() {
        let k = AddressKey::new(b"0123456789abcdef0123456789abcdef");
        let a = k.seal("row-a", b"anna@example.org");
        let b = k.seal("row-a", b"anna@example.org");
        assert_ne!(a, b, "a fresh nonce each time");
        assert!(!a.windows(4).any(|w| w == b"anna"));
        assert_eq!(
            k.open("row-a", &a).as_deref(),
            Some(&b"anna@example.org"[..])
        );
        assert_eq!(k.open("row-b", &a), None, "moved to another row");
        let other = AddressKey::new(b"another key, another server!!!!!");
        assert_eq!(other.open("row-a", &a), None);
        let mut flipped = a.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert_eq!(k.open("row-a", &flipped), None);
        assert_eq!(k.open("row-a", &a[..10]), None);
    }

    #[test]
    fn a_missing_key_file_is_created_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("var/address.key");
        let a = AddressKey::load(&file).unwrap();
        let b = AddressKey::load(&file).unwrap();
        assert_eq!(a.id("x@example.org"), b.id("x@example.org"));
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        std::fs::write(&file, b"short").unwrap();
        let e = AddressKey::load(&file).unwrap_err().to_string();
        assert!(e.contains("shorter than 16 bytes"), "{e}");
    }
}
