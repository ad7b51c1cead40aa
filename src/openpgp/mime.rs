//! PGP/MIME (RFC 3156): a whole message — its text, HTML and `.ics` —
//! encrypted as one MIME entity inside `multipart/encrypted`, with the
//! real Subject, From, To, Date and Message-ID protected inside it
//! ("protected headers", `protected-headers="v1"`, as Thunderbird and
//! other mail programs read them). The outer headers are the caller's:
//! they must say nothing the reader would not want a border guard to see.

use lettre::message::header::ContentType;
use lettre::message::{MessageBuilder, MultiPart, SinglePart};
use lettre::Message;

use super::Cert;

/// Headers of the inner message that travel, encrypted, with its body.
const PROTECTED: [&str; 5] = ["From", "To", "Subject", "Date", "Message-ID"];

/// Why a message could not be sealed.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("cannot encrypt to key {fingerprint}: {reason}")]
    Encrypt { fingerprint: String, reason: String },
    #[error(transparent)]
    Build(#[from] lettre::error::Error),
}

/// The MIME entity `inner` encrypts: its body and content headers, plus
/// the protected headers, with CRLF line ends.
pub fn entity(inner: &Message) -> Vec<u8> {
    let bytes = inner.formatted();
    let split = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(bytes.len());
    let head = String::from_utf8_lossy(&bytes[..split]);
    let body = bytes.get(split + 4..).unwrap_or_default();
    // Unfolded into whole fields, each kept as written (folds included).
    let mut fields: Vec<String> = Vec::new();
    for line in head.split("\r\n") {
        match fields.last_mut() {
            Some(last) if line.starts_with([' ', '\t']) => {
                last.push_str("\r\n");
                last.push_str(line);
            }
            _ => fields.push(line.to_string()),
        }
    }
    let name = |f: &str| f.split(':').next().unwrap_or_default().trim().to_string();
    let mut out = String::new();
    for f in &fields {
        let n = name(f);
        if n.eq_ignore_ascii_case("Content-Type") {
            out.push_str(f);
            out.push_str(";\r\n protected-headers=\"v1\"\r\n");
        } else if n.eq_ignore_ascii_case("Content-Transfer-Encoding")
            || PROTECTED.iter().any(|p| n.eq_ignore_ascii_case(p))
        {
            out.push_str(f);
            out.push_str("\r\n");
        }
    }
    out.push_str("\r\n");
    let mut entity = out.into_bytes();
    entity.extend_from_slice(body);
    entity
}

/// `inner` encrypted to `cert`, under the headers of `outer`.
pub fn seal(inner: &Message, cert: &Cert, outer: MessageBuilder) -> Result<Message, SealError> {
    let armored = cert
        .encrypt(&entity(inner))
        .map_err(|reason| SealError::Encrypt {
            fingerprint: cert.fingerprint.clone(),
            reason,
        })?;
    let version = SinglePart::builder()
        .header(ContentType::parse("application/pgp-encrypted").expect("a valid content type"))
        .body("Version: 1\r\n".to_string());
    let data = SinglePart::builder()
        .header(
            ContentType::parse("application/octet-stream; name=\"encrypted.asc\"")
                .expect("a valid content type"),
        )
        .header(lettre::message::header::ContentDisposition::attachment(
            "encrypted.asc",
        ))
        .body(armored);
    Ok(outer.multipart(
        MultiPart::encrypted("application/pgp-encrypted".into())
            .singlepart(version)
            .singlepart(data),
    )?)
}
