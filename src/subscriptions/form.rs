//! The sign-up and preference forms' fields, read and validated. Pure: the
//! registry and the raw `application/x-www-form-urlencoded` body in, a
//! [`Choice`] or the fields' errors (message ids, for the subscriber's
//! language) out, with what was typed kept so the form is shown again
//! filled in.

use crate::i18n::Lang;
use crate::load::values::is_email;
use crate::model::registry::Registry;

use super::Choice;

/// The reminder-day menus offered (a short menu, not free text: fewer ways
/// to make a mistake, and a choice that does not single anybody out).
pub const DAY_MENU: [&[u16]; 4] = [&[30, 7, 1], &[14, 3], &[7, 1], &[1]];

/// The longest address accepted (RFC 5321's path limit).
pub const MAX_EMAIL: usize = 254;
/// The longest value of any other field.
const MAX_VALUE: usize = 100;
/// The longest pasted OpenPGP key, in characters: a fresh key with an
/// encryption subkey is 1–3 KiB armored (RSA-4096: ~3.2 KiB); the page's
/// 16 KiB body limit bounds it anyway once URL-encoded.
pub const MAX_KEY: usize = 12 * 1024;
/// The most fields a form may send (every topic and mechanism ticked
/// stays far below).
const MAX_FIELDS: usize = 400;

/// What the form sent, as typed (for showing it again).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Fields {
    pub email: String,
    pub topics: Vec<String>,
    pub mechanisms: Vec<String>,
    pub lang: String,
    pub days: String,
    pub mode: String,
    pub token: String,
    /// The preference page's buttons: `save`, `pause`, …
    pub action: String,
    /// The preference page's pause length in days.
    pub pause_days: String,
    /// The "discreet mails" box is ticked.
    pub discreet: bool,
    /// The preference page's pasted OpenPGP public key.
    pub openpgp_key: String,
}

/// A field that is wrong, and the message id saying why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub message: &'static str,
}

/// The fields of a form body. Unknown fields are ignored; a body with too
/// many fields or an over-long value is an error of its own.
pub fn fields(body: &[u8]) -> Result<Fields, FieldError> {
    let mut f = Fields::default();
    for (n, (key, value)) in url::form_urlencoded::parse(body).enumerate() {
        if n >= MAX_FIELDS {
            return Err(FieldError {
                field: "form",
                message: "signup-error-too-long",
            });
        }
        let limit = match &*key {
            "email" => MAX_EMAIL,
            "openpgp_key" => MAX_KEY,
            _ => MAX_VALUE,
        };
        if value.chars().count() > limit {
            return Err(FieldError {
                field: if key == "email" { "email" } else { "form" },
                message: "signup-error-too-long",
            });
        }
        let value = value.into_owned();
        match &*key {
            "email" => f.email = value,
            "topic" => f.topics.push(value),
            "mechanism" => f.mechanisms.push(value),
            "lang" => f.lang = value,
            "days" => f.days = value,
            "mode" => f.mode = value,
            "token" => f.token = value,
            "action" => f.action = value,
            "pause_days" => f.pause_days = value,
            "discreet" => f.discreet = true,
            "openpgp_key" => f.openpgp_key = value,
            _ => {}
        }
    }
    Ok(f)
}

/// The address typed, if it is one: a plain `local@domain`, no display
/// name, no line breaks (so nothing can be smuggled into a header).
pub fn address(typed: &str) -> Result<String, FieldError> {
    let email = typed.trim();
    let bad = FieldError {
        field: "email",
        message: "signup-error-email",
    };
    if email.is_empty() || email.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(bad);
    }
    if email.len() > MAX_EMAIL || !is_email(email) || email.parse::<lettre::Address>().is_err() {
        return Err(bad);
    }
    Ok(email.to_string())
}

/// The menu value of `days` (`30-7-1`).
pub fn days_value(days: &[u16]) -> String {
    days.iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join("-")
}

/// The choice the form's fields make, or every field that is wrong.
/// `fallback` is the language of the page the form was on; `current` is a
/// day setting outside the menu that may be kept (a subscribers-file
/// person's, on the preference page).
pub fn choice(
    registry: &Registry,
    f: &Fields,
    fallback: Lang,
    current: Option<&[u16]>,
) -> Result<Choice, Vec<FieldError>> {
    let mut errors = Vec::new();
    // The slugs ticked, each once, if the registry has them all.
    let mut slugs = |ticked: &[String], known: &dyn Fn(&str) -> bool, e: FieldError| {
        if ticked.iter().all(|s| known(s)) {
            let mut out: Vec<String> = Vec::new();
            for s in ticked {
                if !out.contains(s) {
                    out.push(s.clone());
                }
            }
            out
        } else {
            errors.push(e);
            Vec::new()
        }
    };
    let topics = slugs(
        &f.topics,
        &|t| registry.topic(t).is_some(),
        FieldError {
            field: "topic",
            message: "signup-error-topic",
        },
    );
    let mechanisms = slugs(
        &f.mechanisms,
        &|m| registry.mechanism(m).is_some(),
        FieldError {
            field: "mechanism",
            message: "signup-error-mechanism",
        },
    );
    let language = if f.lang.is_empty() {
        Some(fallback)
    } else {
        Lang::parse(&f.lang)
    };
    if language.is_none() {
        errors.push(FieldError {
            field: "lang",
            message: "signup-error-language",
        });
    }
    let days = current
        .into_iter()
        .chain(DAY_MENU)
        .find(|d| days_value(d) == f.days || (f.days.is_empty() && d.len() == 3));
    if days.is_none() {
        errors.push(FieldError {
            field: "days",
            message: "signup-error-days",
        });
    }
    let digest = match f.mode.as_str() {
        "" | "digest" => Some(true),
        "each" => Some(false),
        _ => None,
    };
    if digest.is_none() {
        errors.push(FieldError {
            field: "mode",
            message: "signup-error-mode",
        });
    }
    match (language, days, digest) {
        (Some(language), Some(days), Some(digest)) if errors.is_empty() => Ok(Choice {
            topics,
            mechanisms,
            language: language.code().to_string(),
            remind_days: days.to_vec(),
            digest,
            discreet: f.discreet,
            openpgp_key: String::new(),
        }),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry() -> Registry {
        crate::testing::registry()
    }

    #[test]
    fn addresses_table() {
        let ok = ["anna@example.org", "  Anna.B+cal@Example.ORG "];
        for a in ok {
            assert_eq!(address(a).as_deref(), Ok(a.trim()), "{a}");
        }
        let long = format!("{}@example.org", "a".repeat(250));
        let bad = [
            "",
            "anna",
            "anna@localhost",
            "a@b.c\r\nBcc: victim@example.org",
            "a@b.c\nBcc: x@y.z",
            "Anna <anna@example.org>",
            "anna@example.org, boris@example.org",
            "an na@example.org",
            "anna@@example.org",
            &long,
        ];
        for a in bad {
            assert!(address(a).is_err(), "{a:?}");
        }
    }

    #[test]
    fn fields_are_bounded() {
        let long = format!("email={}", "a".repeat(300));
        assert_eq!(fields(long.as_bytes()).unwrap_err().field, "email");
        let many = "topic=x&".repeat(500);
        assert!(fields(many.as_bytes()).is_err());
        let f =
            fields(b"email=a%40b.org&topic=women&topic=children&lang=be&days=7-1&mode=each&x=1")
                .unwrap();
        assert_eq!(f.email, "a@b.org");
        assert_eq!(f.topics, ["women", "children"]);
        assert_eq!(
            (f.lang.as_str(), f.days.as_str(), f.mode.as_str()),
            ("be", "7-1", "each")
        );
    }

    #[test]
    fn choices_table() {
        let r = registry();
        let topic = r.topic_slugs().next().unwrap().to_string();
        let mechanism = r.mechanism_slugs().next().unwrap().to_string();
        let f = |topics: &[&str], mechanisms: &[&str], lang: &str, days: &str, mode: &str| Fields {
            topics: topics.iter().map(|s| s.to_string()).collect(),
            mechanisms: mechanisms.iter().map(|s| s.to_string()).collect(),
            lang: lang.into(),
            days: days.into(),
            mode: mode.into(),
            ..Fields::default()
        };
        let c = choice(&r, &f(&[], &[], "", "", ""), Lang::EN, None).unwrap();
        assert_eq!(
            (
                c.topics.len(),
                c.language.as_str(),
                c.remind_days.as_slice(),
                c.digest
            ),
            (0, "en", &[30u16, 7, 1][..], true)
        );
        let c = choice(
            &r,
            &f(&[&topic, &topic], &[&mechanism], "ru", "14-3", "each"),
            Lang::EN,
            None,
        )
        .unwrap();
        assert_eq!(
            (c.topics, c.mechanisms),
            (vec![topic.clone()], vec![mechanism])
        );
        assert_eq!(
            (c.language.as_str(), c.remind_days, c.digest),
            ("ru", vec![14, 3], false)
        );
        let errors = |fields: Fields| -> Vec<&'static str> {
            choice(&r, &fields, Lang::EN, None)
                .unwrap_err()
                .iter()
                .map(|e| e.field)
                .collect()
        };
        assert_eq!(errors(f(&["no-such-topic"], &[], "", "", "")), ["topic"]);
        assert_eq!(
            errors(f(&[], &["nope"], "xx", "", "")),
            ["mechanism", "lang"]
        );
        assert_eq!(errors(f(&[], &[], "", "5", "weekly")), ["days", "mode"]);
    }
}
