//! DKIM signing (RFC 6376) of everything mechcal sends, for relays that do
//! not sign: RSA-SHA256 (RFC 8301; signed by `ring`, which takes keys of
//! 2048 bits and more) or Ed25519-SHA256 (RFC 8463) keys,
//! relaxed/relaxed canonicalisation, over
//! the headers receivers judge by — among them `List-Id`,
//! `List-Unsubscribe` and `List-Unsubscribe-Post`, which RFC 8058 requires
//! to be signed before a receiver offers one-click unsubscribe.
//!
//! The signature is made over the message's final bytes, as they leave.
//! (lettre's own `dkim_sign` looks at the message's header map, which does
//! not hold a multipart body's `Content-Type`: it lists the header in `h=`,
//! signs without it, and no receiver verifies the result.) No `t=` tag: a
//! message sent again after an interrupted pass signs the same way.

use std::path::PathBuf;

use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::load::config;

/// The headers signed, when present (`h=` names those the message has).
pub const SIGNED: [&str; 13] = [
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "MIME-Version",
    "Content-Type",
    "List-Id",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "Auto-Submitted",
    "In-Reply-To",
    "References",
];

/// Why a DKIM key cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DkimError {
    #[error("cannot read the DKIM key {}: {source}", .path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the DKIM key {} is {what}; give an RSA key (PEM: `BEGIN RSA PRIVATE KEY` or `BEGIN PRIVATE KEY`, e.g. `openssl genrsa -out dkim.pem 2048`) or an Ed25519 one (`openssl genpkey -algorithm ed25519 -out dkim.pem`)", .path.display())]
    Key { path: PathBuf, what: String },
}

/// The signer of one domain and selector.
pub struct Dkim {
    key: Key,
    domain: String,
    selector: String,
    record: String,
    /// `selector._domainkey.domain`.
    name: String,
}

impl std::fmt::Debug for Dkim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Dkim({})", self.name)
    }
}

/// A key read from PEM. RSA signs through `ring` (constant-time, and no
/// `rsa` crate with its open timing advisory, RUSTSEC-2023-0071).
enum Key {
    Rsa(ring::rsa::KeyPair),
    Ed25519(ed25519_dalek::SigningKey),
}

impl Key {
    /// The `a=` tag.
    fn algorithm(&self) -> &'static str {
        match self {
            Key::Rsa(_) => "rsa-sha256",
            Key::Ed25519(_) => "ed25519-sha256",
        }
    }

    /// The signature over `data`: RSASSA-PKCS1-v1_5 with SHA-256, or
    /// Ed25519 over its SHA-256 hash (RFC 8463).
    fn sign(&self, data: &[u8]) -> Vec<u8> {
        match self {
            Key::Rsa(k) => {
                let mut signature = vec![0; k.public().modulus_len()];
                k.sign(
                    &ring::signature::RSA_PKCS1_SHA256,
                    &ring::rand::SystemRandom::new(),
                    data,
                    &mut signature,
                )
                .expect("ring signs with a key it accepted");
                signature
            }
            Key::Ed25519(k) => {
                use ed25519_dalek::Signer as _;
                k.sign(&Sha256::digest(data)).to_bytes().to_vec()
            }
        }
    }
}

/// The DER inside a PEM block labelled `label`, if there is one.
fn pem_der(text: &str, label: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)? + begin.len();
    let stop = start + text[start..].find(&end)?;
    let b64: String = text[start..stop]
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD.decode(b64).ok()
}

/// Why `ring` refused an RSA key, in words with the fix.
fn rsa_refused(e: &ring::error::KeyRejected) -> String {
    match e.to_string().as_str() {
        "TooSmall" => "an RSA key of fewer than 2048 bits, which ring (the signer) refuses; make one of 2048: `openssl genrsa -out dkim.pem 2048`".into(),
        "TooLarge" => "an RSA key of more than 8192 bits, which ring (the signer) refuses".into(),
        other => format!("not a usable RSA key ({other})"),
    }
}

fn parse_key(text: &str) -> Result<Key, String> {
    use ed25519_dalek::pkcs8::DecodePrivateKey as _;
    let text = text.trim();
    if text.contains("ENCRYPTED") {
        return Err(
            "encrypted (give it without a passphrase: the service reads it unattended)".into(),
        );
    }
    if text.contains("BEGIN RSA PRIVATE KEY") {
        let der = pem_der(text, "RSA PRIVATE KEY").ok_or("not a readable RSA key (bad PEM)")?;
        return ring::rsa::KeyPair::from_der(&der)
            .map(Key::Rsa)
            .map_err(|e| rsa_refused(&e));
    }
    if text.contains("BEGIN PRIVATE KEY") {
        let der = pem_der(text, "PRIVATE KEY").ok_or("not a readable PKCS#8 key (bad PEM)")?;
        return match ring::rsa::KeyPair::from_pkcs8(&der) {
            Ok(k) => Ok(Key::Rsa(k)),
            Err(e) if e.to_string() != "InvalidEncoding" && e.to_string() != "WrongAlgorithm" => {
                Err(rsa_refused(&e))
            }
            Err(_) => ed25519_dalek::SigningKey::from_pkcs8_pem(text)
                .map(Key::Ed25519)
                .map_err(|_| "a PKCS#8 key of neither RSA nor Ed25519".into()),
        };
    }
    Err("not a PEM private key".into())
}

/// DER's length octets for `n` bytes of content.
fn der_length(n: usize) -> Vec<u8> {
    if n < 0x80 {
        return vec![n as u8];
    }
    let bytes: Vec<u8> = n
        .to_be_bytes()
        .into_iter()
        .skip_while(|b| *b == 0)
        .collect();
    let mut out = vec![0x80 | bytes.len() as u8];
    out.extend(bytes);
    out
}

/// The SubjectPublicKeyInfo (what DKIM's `p=` holds, as `openssl rsa
/// -pubout` writes it) of a PKCS#1 RSAPublicKey.
fn rsa_spki(pkcs1: &[u8]) -> Vec<u8> {
    // AlgorithmIdentifier { rsaEncryption, NULL }.
    const ALGORITHM: [u8; 15] = [
        0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
    ];
    let mut bits = vec![0x03];
    bits.extend(der_length(pkcs1.len() + 1));
    bits.push(0);
    bits.extend_from_slice(pkcs1);
    let mut out = vec![0x30];
    out.extend(der_length(ALGORITHM.len() + bits.len()));
    out.extend_from_slice(&ALGORITHM);
    out.extend(bits);
    out
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

impl Dkim {
    /// The signer `c` describes: its key from the credential `dkim-key`,
    /// else from `c.key_file`.
    pub fn load(c: &config::DkimConfig) -> Result<Dkim, DkimError> {
        let credential = crate::os::credentials::path(crate::os::credentials::DKIM_KEY);
        let path = credential.unwrap_or_else(|| c.key_file.clone());
        let text = std::fs::read_to_string(&path).map_err(|source| DkimError::Read {
            path: path.clone(),
            source,
        })?;
        Self::from_pem(c, &text).map_err(|what| DkimError::Key { path, what })
    }

    /// The signer of `c` with the key in `pem`.
    pub fn from_pem(c: &config::DkimConfig, pem: &str) -> Result<Dkim, String> {
        let key = parse_key(pem)?;
        let record = match &key {
            Key::Rsa(k) => {
                use ring::signature::KeyPair as _;
                format!(
                    "v=DKIM1; k=rsa; p={}",
                    b64(&rsa_spki(k.public_key().as_ref()))
                )
            }
            Key::Ed25519(k) => format!(
                "v=DKIM1; k=ed25519; p={}",
                b64(k.verifying_key().as_bytes())
            ),
        };
        Ok(Dkim {
            key,
            domain: c.domain.clone(),
            selector: c.selector.clone(),
            record,
            name: format!("{}._domainkey.{}", c.selector, c.domain),
        })
    }

    /// `message` (a whole RFC 5322 message, CRLF line ends) with a
    /// `DKIM-Signature` header in front.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        let split = find(message, b"\r\n\r\n").map_or(message.len(), |i| i + 2);
        let (head, body) = message.split_at(split);
        let body = body.strip_prefix(b"\r\n").unwrap_or(body);
        let fields = fields(head);
        // Each signed name once: its last occurrence (RFC 6376 5.4.2).
        let signed: Vec<&(String, &[u8])> = SIGNED
            .iter()
            .filter_map(|name| {
                fields
                    .iter()
                    .rev()
                    .find(|(n, _)| n.eq_ignore_ascii_case(name))
            })
            .collect();
        let h: Vec<String> = signed.iter().map(|(n, _)| n.to_ascii_lowercase()).collect();
        let unsigned = format!(
            "v=1; a={}; c=relaxed/relaxed; d={}; s={};\r\n h={};\r\n bh={};\r\n b=",
            self.key.algorithm(),
            self.domain,
            self.selector,
            h.join(":"),
            b64(&Sha256::digest(relaxed_body(body)))
        );
        let mut data = Vec::new();
        for (name, value) in &signed {
            data.extend(relaxed_header(name, value));
            data.extend(b"\r\n");
        }
        data.extend(relaxed_header("DKIM-Signature", unsigned.as_bytes()));
        let signature = b64(&self.key.sign(&data));
        let folded: Vec<&str> = signature
            .as_bytes()
            .chunks(72)
            .map(|c| std::str::from_utf8(c).expect("base64 is ASCII"))
            .collect();
        let mut out =
            format!("DKIM-Signature: {unsigned}{}\r\n", folded.join("\r\n  ")).into_bytes();
        out.extend_from_slice(message);
        out
    }

    /// The TXT record's value (`v=DKIM1; k=…; p=…`).
    pub fn record_value(&self) -> &str {
        &self.record
    }

    /// The record to publish, as a zone-file line: the value split into
    /// strings of at most 255 characters, as DNS requires.
    pub fn zone_line(&self) -> String {
        let chunks: Vec<String> = self
            .record
            .as_bytes()
            .chunks(255)
            .map(|c| format!("\"{}\"", String::from_utf8_lossy(c)))
            .collect();
        format!("{}. 3600 IN TXT ( {} )", self.name, chunks.join(" "))
    }

    /// `selector._domainkey.domain`.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// The header fields of `head` (each with its continuation lines), in
/// order: `(name, value)`, the value raw, after the colon.
fn fields(head: &[u8]) -> Vec<(String, &[u8])> {
    let mut out: Vec<(String, &[u8])> = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < head.len() {
        let end = find(&head[i..], b"\r\n").map_or(head.len(), |e| i + e);
        let next = end + 2;
        let continued = head.get(next).is_some_and(|b| *b == b' ' || *b == b'\t');
        if !continued {
            let field = &head[start..end];
            if let Some(colon) = field.iter().position(|b| *b == b':') {
                let name = String::from_utf8_lossy(&field[..colon]).trim().to_string();
                out.push((name, &field[colon + 1..]));
            }
            start = next;
        }
        i = next;
    }
    out
}

/// RFC 6376 3.4.2: the name lower-cased, the value unfolded, runs of
/// white space one space, none at either end.
fn relaxed_header(name: &str, value: &[u8]) -> Vec<u8> {
    let mut out = name.trim().to_ascii_lowercase().into_bytes();
    out.push(b':');
    let mut space = false;
    let mut started = false;
    for &b in value {
        match b {
            b'\r' | b'\n' => {}
            b' ' | b'\t' => space = true,
            _ => {
                if space && started {
                    out.push(b' ');
                }
                space = false;
                started = true;
                out.push(b);
            }
        }
    }
    out
}

/// RFC 6376 3.4.4: runs of white space one space, none at a line's end,
/// no empty lines at the end; an empty body stays empty.
fn relaxed_body(body: &[u8]) -> Vec<u8> {
    let mut lines: Vec<Vec<u8>> = Vec::new();
    for line in body.split(|b| *b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let mut out = Vec::with_capacity(line.len());
        let mut space = false;
        for &b in line {
            if b == b' ' || b == b'\t' {
                space = true;
            } else {
                if space {
                    out.push(b' ');
                }
                space = false;
                out.push(b);
            }
        }
        lines.push(out);
    }
    while lines.last().is_some_and(Vec::is_empty) {
        lines.pop();
    }
    let mut out = Vec::new();
    for l in lines {
        out.extend(l);
        out.extend(b"\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> config::DkimConfig {
        config::DkimConfig {
            domain: "calendar.example.org".into(),
            selector: "mechcal".into(),
            key_file: "unused".into(),
        }
    }

    // A throw-away Ed25519 key (PKCS#8, as `openssl genpkey -algorithm
    // ed25519` writes it).
    const ED25519: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIC5CueWQS+wFImOyBnR+TVvNkk/YM8JRp4SRal3XpHaj\n-----END PRIVATE KEY-----\n";

    #[test]
    fn keys_are_read_and_their_record_made() {
        let d = Dkim::from_pem(&config(), ED25519).unwrap();
        assert!(
            d.record_value().starts_with("v=DKIM1; k=ed25519; p="),
            "{}",
            d.record_value()
        );
        assert_eq!(d.name(), "mechcal._domainkey.calendar.example.org");
        assert!(d
            .zone_line()
            .starts_with("mechcal._domainkey.calendar.example.org. 3600 IN TXT ( \"v=DKIM1"));
        for bad in [
            "",
            "hello",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n",
        ] {
            assert!(Dkim::from_pem(&config(), bad).is_err(), "{bad}");
        }
    }

    /// RSA keys as `openssl genrsa` (PKCS#1) and `openssl genpkey`
    /// (PKCS#8) write them: read, their record's `p=` the
    /// SubjectPublicKeyInfo that `openssl rsa -pubout` gives; a key under
    /// 2048 bits is refused with how to make a good one.
    #[test]
    fn rsa_keys_through_ring() {
        let dir = tempfile::tempdir().unwrap();
        let openssl = |args: &[&str]| {
            let out = std::process::Command::new("openssl")
                .args(args)
                .current_dir(dir.path())
                .output()
                .expect("openssl (Debian's, on every machine of this kind)");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            out.stdout
        };
        openssl(&["genrsa", "-traditional", "-out", "pkcs1.pem", "2048"]);
        openssl(&[
            "genpkey",
            "-algorithm",
            "rsa",
            "-pkeyopt",
            "rsa_keygen_bits:3072",
            "-out",
            "pkcs8.pem",
        ]);
        openssl(&["genrsa", "-traditional", "-out", "small.pem", "1024"]);
        for name in ["pkcs1.pem", "pkcs8.pem"] {
            let pem = std::fs::read_to_string(dir.path().join(name)).unwrap();
            let d = Dkim::from_pem(&config(), &pem).unwrap_or_else(|e| panic!("{name}: {e}"));
            let spki = openssl(&["pkey", "-in", name, "-pubout", "-outform", "DER"]);
            assert_eq!(
                d.record_value(),
                format!("v=DKIM1; k=rsa; p={}", b64(&spki)),
                "{name}"
            );
            assert!(String::from_utf8(d.sign(b"From: a@b\r\n\r\nhi\r\n"))
                .unwrap()
                .contains("a=rsa-sha256"));
        }
        let small = std::fs::read_to_string(dir.path().join("small.pem")).unwrap();
        let e = Dkim::from_pem(&config(), &small).err().unwrap();
        assert!(
            e.contains("fewer than 2048 bits") && e.contains("openssl genrsa"),
            "{e}"
        );
    }

    #[test]
    fn canonicalisation_table() {
        assert_eq!(
            relaxed_header("Subject", b" a \t b\r\n  c  "),
            b"subject:a b c"
        );
        assert_eq!(relaxed_body(b"a  b \r\n\r\n\r\n"), b"a b\r\n");
        assert_eq!(relaxed_body(b""), b"");
        assert_eq!(relaxed_body(b"\r\n\r\n"), b"");
        let f = fields(b"From: a\r\nSubject: x\r\n y\r\nTo: b\r\n");
        let names: Vec<&str> = f.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["From", "Subject", "To"]);
        assert_eq!(f[1].1, b" x\r\n y");
    }

    #[test]
    fn a_signature_names_the_headers_present_and_is_deterministic() {
        let d = Dkim::from_pem(&config(), ED25519).unwrap();
        let m = b"From: a@calendar.example.org\r\nTo: b@example.org\r\nSubject: x\r\nList-Unsubscribe: <https://x/u>\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\nContent-Type: text/plain\r\n\r\nhello\r\n";
        let signed = String::from_utf8(d.sign(m)).unwrap();
        assert!(signed.starts_with("DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed; d=calendar.example.org; s=mechcal;\r\n h=from:to:subject:content-type:list-unsubscribe:list-unsubscribe-post;"), "{signed}");
        assert!(signed.ends_with("\r\n\r\nhello\r\n"));
        assert_eq!(d.sign(m), d.sign(m));
    }
}
