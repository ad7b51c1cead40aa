//! OpenPGP for subscribers who give a public key: checking the key (for
//! `mechcal check` and before every message) and sealing a reminder into
//! PGP/MIME ([`mime`]). Pure: the time is passed in, the randomness of
//! encryption comes from the system.
//!
//! rPGP (`pgp`) parses and encrypts; it checks signatures but leaves
//! "is this key usable now" to its users, so [`Cert::check`] does that
//! here, as RFC 9580 §5.2.3 and §10.1 describe: only self-signatures count
//! (third-party certifications are ignored), the newest valid binding of
//! each component decides its flags and expiry, and a valid revocation
//! ends it.

pub mod mime;

use std::time::SystemTime;

use chrono::{DateTime, Utc};
use pgp::composed::{Deserializable, SignedPublicKey, SignedPublicSubKey};
use pgp::packet::{Signature, SignatureType};
use pgp::types::{KeyDetails, KeyVersion, Tag, Timestamp};

/// A subscriber's public key, checked: it can be encrypted to.
#[derive(Clone)]
pub struct Cert {
    key: SignedPublicKey,
    /// The primary key's fingerprint, upper-case hex (as GnuPG shows it).
    pub fingerprint: String,
    /// When the key (or the subkey mechcal encrypts to) stops being
    /// usable, if it expires.
    pub expires: Option<DateTime<Utc>>,
    /// Which key to encrypt to.
    target: Target,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    Primary,
    Subkey(usize),
}

impl std::fmt::Debug for Cert {
    // The fingerprint only: the key's user IDs hold names and addresses.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cert")
            .field("fingerprint", &self.fingerprint)
            .field("expires", &self.expires)
            .finish_non_exhaustive()
    }
}

impl PartialEq for Cert {
    fn eq(&self, other: &Cert) -> bool {
        self.key == other.key
    }
}

impl Eq for Cert {}

/// Why a key cannot be used, in words for `check` and the staff alert.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyProblem {
    #[error("this is not an OpenPGP public key ({0})")]
    NotAKey(String),
    #[error("this is a secret (private) key; it must never leave its owner")]
    Secret,
    #[error("the file holds {0} keys; give one key per subscriber")]
    Several(usize),
    #[error("key {fingerprint} is a version {version} key, which GnuPG and most mail programs cannot read yet")]
    Version { fingerprint: String, version: u8 },
    #[error("key {fingerprint} has no valid self-signature ({reason})")]
    Unsigned { fingerprint: String, reason: String },
    #[error("key {fingerprint} is revoked")]
    Revoked { fingerprint: String },
    #[error("key {fingerprint} expired on {}", .at.format("%Y-%m-%d"))]
    Expired {
        fingerprint: String,
        at: DateTime<Utc>,
    },
    #[error("key {fingerprint} has no usable encryption subkey{}", .detail)]
    NoEncryption { fingerprint: String, detail: String },
    #[error("key {fingerprint} is not this address's key: none of its user IDs is {address}")]
    OtherAddress {
        fingerprint: String,
        /// The address, masked (`a***@example.org`).
        address: String,
    },
}

impl KeyProblem {
    /// The key's fingerprint, when the problem is with a key.
    pub fn fingerprint(&self) -> Option<&str> {
        match self {
            KeyProblem::Version { fingerprint, .. }
            | KeyProblem::Unsigned { fingerprint, .. }
            | KeyProblem::Revoked { fingerprint }
            | KeyProblem::Expired { fingerprint, .. }
            | KeyProblem::NoEncryption { fingerprint, .. }
            | KeyProblem::OtherAddress { fingerprint, .. } => Some(fingerprint),
            _ => None,
        }
    }

    /// What the subscriber or staff can do about it.
    pub fn help(&self) -> String {
        let text = match self {
            KeyProblem::NotAKey(_) | KeyProblem::Several(_) => {
                "export the public key alone: `gpg --armor --export FINGERPRINT` (or, in Thunderbird, \"Export Public Keys To File\")"
            }
            KeyProblem::Secret => {
                "delete this file everywhere it was copied, and export the public key: `gpg --armor --export FINGERPRINT`"
            }
            KeyProblem::Version { .. } => "give a version 4 key (`gpg --full-generate-key`)",
            KeyProblem::Unsigned { .. } | KeyProblem::Revoked { .. } => {
                "ask the subscriber for their current public key"
            }
            KeyProblem::Expired { .. } => {
                "ask the subscriber to extend the key (`gpg --quick-set-expire FINGERPRINT 2y '*'`) and send it again, or for a new one"
            }
            KeyProblem::NoEncryption { .. } => {
                "ask for a key with an encryption subkey (`gpg --quick-add-key FINGERPRINT cv25519 encr 2y`)"
            }
            KeyProblem::OtherAddress { .. } => {
                "give the key of the address the reminders go to, or add that address to this key (`gpg --quick-add-uid FINGERPRINT 'Name <address>'`) and export it again"
            }
        };
        match self.fingerprint() {
            Some(f) => text.replace("FINGERPRINT", f),
            None => text.to_string(),
        }
    }
}

fn time(t: Timestamp) -> DateTime<Utc> {
    DateTime::<Utc>::from(SystemTime::from(t))
}

/// When a component created at `created` expires under `sig` (a key
/// expiration of zero means none).
fn expiry(created: Timestamp, sig: &Signature) -> Option<DateTime<Utc>> {
    sig.key_expiration_time()
        .map(|d| d.as_secs())
        .filter(|&secs| secs > 0)
        .map(|secs| time(created) + chrono::Duration::seconds(i64::from(secs)))
}

fn created(sig: &Signature) -> DateTime<Utc> {
    sig.created().map_or(DateTime::UNIX_EPOCH, time)
}

/// A signature that claims to be made at or before `now`.
fn current(sig: &Signature, now: DateTime<Utc>) -> bool {
    created(sig) <= now
}

impl Cert {
    /// Reads one public key, armored or binary, and checks that it can be
    /// encrypted to at `now`.
    pub fn check(text: &[u8], now: DateTime<Utc>) -> Result<Cert, KeyProblem> {
        let cert = Cert::read(text, now)?;
        cert.usable_at(now)?;
        Ok(cert)
    }

    /// Like [`Cert::check`], but a key that has only expired is returned
    /// (with [`Cert::expires`] in the past): a running service keeps the
    /// subscriber, and holds their mail, rather than refusing the file.
    pub fn read(text: &[u8], now: DateTime<Utc>) -> Result<Cert, KeyProblem> {
        let head = String::from_utf8_lossy(&text[..text.len().min(4096)]);
        if head.contains("PRIVATE KEY BLOCK") {
            return Err(KeyProblem::Secret);
        }
        // rPGP reads the first of several armored blocks only.
        let blocks = String::from_utf8_lossy(text)
            .matches("-----BEGIN PGP PUBLIC KEY BLOCK-----")
            .count();
        if blocks > 1 {
            return Err(KeyProblem::Several(blocks));
        }
        let keys: Vec<SignedPublicKey> = match SignedPublicKey::from_reader_many(text) {
            Ok((keys, _)) => keys
                .collect::<Result<_, _>>()
                .map_err(|e| KeyProblem::NotAKey(e.to_string()))?,
            Err(e) => return Err(KeyProblem::NotAKey(e.to_string())),
        };
        let key = match keys.len() {
            0 => return Err(KeyProblem::NotAKey("no key in it".into())),
            1 => keys.into_iter().next().expect("one key"),
            n => return Err(KeyProblem::Several(n)),
        };
        let mut cert = Cert {
            fingerprint: format!("{:X}", key.primary_key.fingerprint()),
            key,
            expires: None,
            target: Target::Primary,
        };
        cert.evaluate(now)?;
        Ok(cert)
    }

    /// Whether one of the key's user IDs that the key itself certifies
    /// (and has not revoked) is `email` (`Name <email>` or the bare
    /// address; compared without regard to case). A key is accepted for
    /// an address only if it says it is that address's key: else anyone
    /// holding a preference link could have the mail encrypted to them.
    pub fn names(&self, email: &str) -> bool {
        let primary = &self.key.primary_key;
        self.key.details.users.iter().any(|user| {
            let Some(id) = user.id.as_str() else {
                return false;
            };
            let address = match (id.rfind('<'), id.rfind('>')) {
                (Some(start), Some(end)) if start < end => &id[start + 1..end],
                _ => id,
            };
            address.trim().eq_ignore_ascii_case(email.trim())
                && user.signatures.iter().any(|sig| {
                    sig.typ() != Some(SignatureType::CertRevocation)
                        && sig
                            .verify_certification(primary, Tag::UserId, &user.id)
                            .is_ok()
                })
                && !user.signatures.iter().any(|sig| {
                    sig.typ() == Some(SignatureType::CertRevocation)
                        && sig
                            .verify_certification(primary, Tag::UserId, &user.id)
                            .is_ok()
                })
        })
    }

    /// Whether the key can still be encrypted to at `now` (it may have
    /// expired since it was checked).
    pub fn usable_at(&self, now: DateTime<Utc>) -> Result<(), KeyProblem> {
        match self.expires {
            Some(at) if at <= now => Err(KeyProblem::Expired {
                fingerprint: self.fingerprint.clone(),
                at,
            }),
            _ => Ok(()),
        }
    }

    /// Finds the key to encrypt to at `now` and when it expires.
    fn evaluate(&mut self, now: DateTime<Utc>) -> Result<(), KeyProblem> {
        let fingerprint = self.fingerprint.clone();
        let primary = &self.key.primary_key;
        if primary.version() != KeyVersion::V4 {
            return Err(KeyProblem::Version {
                fingerprint,
                version: u8::from(primary.version()),
            });
        }
        let details = &self.key.details;
        if details
            .revocation_signatures
            .iter()
            .any(|s| s.verify_key(primary).is_ok())
        {
            return Err(KeyProblem::Revoked { fingerprint });
        }
        // The primary key's newest valid self-signature: a direct-key
        // signature or a user ID's certification (the primary user ID's
        // first, as GnuPG does).
        let mut binding: Option<(bool, DateTime<Utc>, &Signature)> = None;
        for sig in &details.direct_signatures {
            if current(sig, now) && sig.verify_key(primary).is_ok() {
                let candidate = (false, created(sig), sig);
                if binding.is_none_or(|b| (b.0, b.1) < (candidate.0, candidate.1)) {
                    binding = Some(candidate);
                }
            }
        }
        let mut last_error = String::from("no user ID is signed by the key itself");
        for user in &details.users {
            let mut newest: Option<&Signature> = None;
            for sig in &user.signatures {
                if !current(sig, now) {
                    last_error = format!(
                        "it is signed on {}, after the time checked ({})",
                        created(sig).format("%Y-%m-%d"),
                        now.format("%Y-%m-%d")
                    );
                    continue;
                }
                match sig.verify_certification(primary, Tag::UserId, &user.id) {
                    Ok(()) if newest.is_none_or(|n| created(n) < created(sig)) => {
                        newest = Some(sig);
                    }
                    Ok(()) => {}
                    // Third-party certifications do not verify against the
                    // key itself; they are not ours to judge.
                    Err(e) => last_error = e.to_string(),
                }
            }
            let Some(sig) = newest else { continue };
            if sig.typ() == Some(SignatureType::CertRevocation) {
                continue;
            }
            let candidate = (sig.is_primary(), created(sig), sig);
            if binding.is_none_or(|b| (b.0, b.1) < (candidate.0, candidate.1)) {
                binding = Some(candidate);
            }
        }
        let Some((_, _, self_sig)) = binding else {
            return Err(KeyProblem::Unsigned {
                fingerprint,
                reason: last_error,
            });
        };
        let primary_expires = expiry(primary.created_at(), self_sig);

        // The encryption subkey: the newest one that is bound, not revoked,
        // flagged for encryption and not expired.
        let mut best: Option<(DateTime<Utc>, usize, Option<DateTime<Utc>>)> = None;
        let mut expired: Option<(DateTime<Utc>, usize)> = None;
        let mut revoked = false;
        for (i, sub) in self.key.public_subkeys.iter().enumerate() {
            match subkey_state(primary, sub, now) {
                Sub::Usable(until) => {
                    let made = time(sub.key.created_at());
                    if best.is_none_or(|b| b.0 < made) {
                        best = Some((made, i, until));
                    }
                }
                Sub::Expired(at) => expired = expired.max(Some((at, i))),
                Sub::Revoked => revoked = true,
                Sub::NotForEncryption => {}
            }
        }
        let (target, sub_expires) = match best {
            Some((_, i, until)) => (Target::Subkey(i), until),
            None if (self_sig.key_flags().encrypt_comms()
                || self_sig.key_flags().encrypt_storage())
                && primary.algorithm().can_encrypt() =>
            {
                (Target::Primary, None)
            }
            // Expired: kept, so that [`Cert::usable_at`] says so.
            None if expired.is_some() => {
                let (at, i) = expired.expect("an expired subkey");
                (Target::Subkey(i), Some(at))
            }
            None => {
                return Err(KeyProblem::NoEncryption {
                    fingerprint,
                    detail: if revoked {
                        " (its encryption subkey is revoked)".into()
                    } else {
                        String::new()
                    },
                });
            }
        };
        self.target = target;
        self.expires = match (primary_expires, sub_expires) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Ok(())
    }

    /// `plain` encrypted to this key: an armored OpenPGP message
    /// (SEIPD v1 with AES-256, which every OpenPGP implementation reads).
    pub fn encrypt(&self, plain: &[u8]) -> Result<String, String> {
        use pgp::composed::{ArmorOptions, MessageBuilder};
        use pgp::crypto::sym::SymmetricKeyAlgorithm;
        let mut rng = rand::rngs::OsRng;
        let mut builder = MessageBuilder::from_bytes("", plain.to_vec())
            .seipd_v1(&mut rng, SymmetricKeyAlgorithm::AES256);
        match self.target {
            Target::Primary => builder.encrypt_to_key(&mut rng, &self.key.primary_key),
            Target::Subkey(i) => builder.encrypt_to_key(&mut rng, &self.key.public_subkeys[i]),
        }
        .map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        builder
            .to_armored_writer(rng, ArmorOptions::default(), &mut out)
            .map_err(|e| e.to_string())?;
        String::from_utf8(out).map_err(|e| e.to_string())
    }
}

enum Sub {
    Usable(Option<DateTime<Utc>>),
    Expired(DateTime<Utc>),
    Revoked,
    NotForEncryption,
}

fn subkey_state(
    primary: &pgp::packet::PublicKey,
    sub: &SignedPublicSubKey,
    now: DateTime<Utc>,
) -> Sub {
    let mut newest: Option<&Signature> = None;
    for sig in &sub.signatures {
        if !current(sig, now) || sig.verify_subkey_binding(primary, &sub.key).is_err() {
            continue;
        }
        if sig.typ() == Some(SignatureType::SubkeyRevocation) {
            return Sub::Revoked;
        }
        if newest.is_none_or(|n| created(n) < created(sig)) {
            newest = Some(sig);
        }
    }
    let Some(sig) = newest else {
        return Sub::NotForEncryption;
    };
    let flags = sig.key_flags();
    if !(flags.encrypt_comms() || flags.encrypt_storage()) || !sub.key.algorithm().can_encrypt() {
        return Sub::NotForEncryption;
    }
    match expiry(sub.key.created_at(), sig) {
        Some(at) if at <= now => Sub::Expired(at),
        until => Sub::Usable(until),
    }
}

#[cfg(test)]
mod tests;
