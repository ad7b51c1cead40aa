//! What a submission must be like, as the call's page says: limits,
//! languages, how to send it, the e-mail subject to use, whether it may be
//! published, and when staff last checked the source. All optional.

use chrono::NaiveDate;

/// How a submission is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum SubmitVia {
    Email,
    Portal,
    Post,
    Form,
}

impl SubmitVia {
    pub const NAMES: [&'static str; 4] = ["email", "portal", "post", "form"];

    pub fn parse(s: &str) -> Option<SubmitVia> {
        Some(match s {
            "email" => SubmitVia::Email,
            "portal" => SubmitVia::Portal,
            "post" => SubmitVia::Post,
            "form" => SubmitVia::Form,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

/// Whether the mechanism may publish the submission.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Public {
    Yes,
    No,
    OnRequest,
}

impl Public {
    pub const NAMES: [&'static str; 3] = ["yes", "no", "on-request"];

    pub fn parse(s: &str) -> Option<Public> {
        Some(match s {
            "yes" => Public::Yes,
            "no" => Public::No,
            "on-request" => Public::OnRequest,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Requirements {
    pub word_limit: Option<u32>,
    pub page_limit: Option<u32>,
    /// ISO 639-1 codes, in the order written.
    pub languages: Vec<String>,
    /// In the order written.
    pub submit_via: Vec<SubmitVia>,
    pub subject_line: Option<String>,
    pub public: Option<Public>,
    /// When staff last checked the facts against `source`.
    pub verified: Option<NaiveDate>,
    /// The page the facts come from (http or https).
    pub source: Option<String>,
}

/// `r`, shared: every entry without requirements (most of them) points
/// at one empty value instead of holding its own.
pub fn shared(r: Requirements) -> std::sync::Arc<Requirements> {
    static EMPTY: std::sync::LazyLock<std::sync::Arc<Requirements>> =
        std::sync::LazyLock::new(Default::default);
    if r.is_empty() {
        EMPTY.clone()
    } else {
        std::sync::Arc::new(r)
    }
}

impl Requirements {
    pub fn is_empty(&self) -> bool {
        *self == Requirements::default()
    }

    /// Each field as `(name, value)` for the fingerprint: only the ones
    /// set, so an entry without requirements hashes as before they existed.
    pub fn fields(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        let mut push = |name, value: Option<String>| {
            if let Some(v) = value {
                out.push((name, v));
            }
        };
        push("word_limit", self.word_limit.map(|n| n.to_string()));
        push("page_limit", self.page_limit.map(|n| n.to_string()));
        push(
            "languages",
            (!self.languages.is_empty()).then(|| self.languages.join(",")),
        );
        push(
            "submit_via",
            (!self.submit_via.is_empty()).then(|| {
                self.submit_via
                    .iter()
                    .map(|v| v.as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            }),
        );
        push("subject_line", self.subject_line.clone());
        push("public", self.public.map(|p| p.as_str().to_string()));
        push("verified", self.verified.map(|d| d.to_string()));
        push("source", self.source.clone());
        out
    }
}
