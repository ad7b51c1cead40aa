//! The links of self-service subscriptions: opaque, signed, and bound to
//! one purpose. A link is `base64url(purpose ‖ id ‖ n ‖ tag)`: the
//! subscriber id (a keyed hash, never the address in any encoding), a
//! number whose meaning depends on the purpose (a confirm link's expiry, a
//! preference link's generation), and 128 bits of HMAC under the
//! unsubscribe secret over all of it. A confirm link cannot be turned into
//! a preference or unsubscribe link (the purpose is signed). A
//! subscriber's links carry a random value stored with their row
//! ([`fresh_value`]), new on every sign-up and every new link, and gone
//! with the row: a link works only while it matches, so a rotated or
//! deleted subscriber's old links never come back, not even when the
//! address signs up again.
//!
//! Form tokens are the same construction for the sign-up form: the hour
//! the form was served, so a form more than [`FORM_HOURS`] old is refused.

use base64::Engine as _;
use chrono::{DateTime, Utc};

use crate::reminders::tokens::{hex, unhex, Secret};

/// What a link may be used for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// Activates a pending sign-up; `n` is its row's link value.
    Confirm,
    /// Opens the preference page; `n` is its row's link value.
    Manage,
    /// One-click unsubscribe (RFC 8058); `n` is its row's link value.
    Unsubscribe,
    /// The sign-up form's token; `n` is the hour it was served.
    Form,
}

impl Purpose {
    fn byte(self) -> u8 {
        match self {
            Purpose::Confirm => 1,
            Purpose::Manage => 2,
            Purpose::Unsubscribe => 3,
            Purpose::Form => 4,
        }
    }
}

/// A verified link: whose it is and its number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    pub id: String,
    pub n: u64,
}

const ID_BYTES: usize = 16;
const TAG_BYTES: usize = 16;
const LEN: usize = 1 + ID_BYTES + 8 + TAG_BYTES;
const DOMAIN: &[u8] = b"mechcal link\n";

/// How long a sign-up form may be filled in.
pub const FORM_HOURS: u64 = 24;

fn engine() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
}

/// The link of `purpose` for subscriber `id` (32 hex digits) with `n`.
pub fn make(secret: &Secret, purpose: Purpose, id: &str, n: u64) -> String {
    let mut bytes = Vec::with_capacity(LEN);
    bytes.push(purpose.byte());
    let id = unhex(id)
        .filter(|b| b.len() == ID_BYTES)
        .unwrap_or_else(|| vec![0; ID_BYTES]);
    bytes.extend(id);
    bytes.resize(1 + ID_BYTES, 0);
    bytes.extend(n.to_be_bytes());
    let tag = secret.sign(DOMAIN, &bytes);
    bytes.extend(&tag[..TAG_BYTES]);
    engine().encode(bytes)
}

/// The link `token` is, if it was made by this server for `purpose`.
pub fn verify(secret: &Secret, purpose: Purpose, token: &str) -> Option<Link> {
    if token.len() > 128 {
        return None;
    }
    let bytes = engine().decode(token.trim()).ok()?;
    if bytes.len() != LEN || bytes[0] != purpose.byte() {
        return None;
    }
    let (body, tag) = bytes.split_at(LEN - TAG_BYTES);
    // Constant time, by the `hmac` crate.
    if !secret.verify_signed(DOMAIN, body, tag) {
        return None;
    }
    let id = hex(&body[1..1 + ID_BYTES]);
    let n = u64::from_be_bytes(body[1 + ID_BYTES..].try_into().ok()?);
    Some(Link { id, n })
}

/// A fresh random value to bind a subscription's links to (never 0: a
/// person without a row has no links that work).
pub fn fresh_value() -> u64 {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("the system's random source works");
    (u64::from_be_bytes(bytes) & (i64::MAX as u64)) | 1
}

/// A fresh form token for a form served at `now`.
pub fn form_token(secret: &Secret, now: DateTime<Utc>) -> String {
    make(secret, Purpose::Form, "", hour(now))
}

/// Whether `token` is a form token of this server served within
/// [`FORM_HOURS`] of `now`.
pub fn form_token_ok(secret: &Secret, token: &str, now: DateTime<Utc>) -> bool {
    verify(secret, Purpose::Form, token)
        .is_some_and(|l| l.n <= hour(now) && hour(now) - l.n < FORM_HOURS)
}

fn hour(t: DateTime<Utc>) -> u64 {
    u64::try_from(t.timestamp() / 3600).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "00112233445566778899aabbccddeeff";

    fn secret() -> Secret {
        Secret::new(*b"0123456789abcdef0123456789abcdef")
    }

    #[test]
    fn links_verify_for_their_purpose_only() {
        let s = secret();
        let confirm = make(&s, Purpose::Confirm, ID, 1_800_000_000);
        assert_eq!(
            verify(&s, Purpose::Confirm, &confirm),
            Some(Link {
                id: ID.into(),
                n: 1_800_000_000
            })
        );
        for other in [Purpose::Manage, Purpose::Unsubscribe, Purpose::Form] {
            assert_eq!(verify(&s, other, &confirm), None, "{other:?}");
        }
        // Another server's link; a flipped character; truncated; junk.
        let theirs = Secret::new(*b"another secret, another server!!");
        assert_eq!(verify(&theirs, Purpose::Confirm, &confirm), None);
        let mut flipped = confirm.clone().into_bytes();
        flipped[10] = if flipped[10] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).unwrap();
        assert_eq!(verify(&s, Purpose::Confirm, &flipped), None);
        for bad in ["", "%%%", &confirm[..20], &format!("{confirm}AA")] {
            assert_eq!(verify(&s, Purpose::Confirm, bad), None, "{bad}");
        }
        // Opaque: no hex of the id (nor of anything else) in clear.
        assert!(!confirm.contains("0011223344"));
        assert!(confirm
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    }

    #[test]
    fn form_tokens_expire() {
        let s = secret();
        let at = |t: &str| t.parse::<DateTime<Utc>>().unwrap();
        let token = form_token(&s, at("2027-01-10T10:30:00Z"));
        assert!(form_token_ok(&s, &token, at("2027-01-10T10:59:00Z")));
        assert!(form_token_ok(&s, &token, at("2027-01-11T09:59:00Z")));
        assert!(!form_token_ok(&s, &token, at("2027-01-11T10:00:00Z")));
        assert!(
            !form_token_ok(&s, &token, at("2027-01-10T09:00:00Z")),
            "from the future"
        );
        let manage = make(&s, Purpose::Manage, ID, 0);
        assert!(!form_token_ok(&s, &manage, at("2027-01-10T10:30:00Z")));
    }
}
