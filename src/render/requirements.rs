//! A deadline's submission requirements in words, in a language: one
//! `(label, value)` line each, for the feeds' `DESCRIPTION`, the page's
//! checklist and reminder mails alike.

use crate::i18n::Lang;
use crate::model::requirements::{Public, Requirements, SubmitVia};

/// The lines of `r` in `lang`, in a fixed order; none when it is empty.
pub fn lines(r: &Requirements, lang: Lang) -> Vec<(String, String)> {
    let t = |id: &str| lang.text(id).into_owned();
    let mut out = Vec::new();
    if let Some(n) = r.word_limit {
        out.push((
            t("req-word-limit"),
            lang.format("req-words", &[("n", n.into())]),
        ));
    }
    if let Some(n) = r.page_limit {
        out.push((
            t("req-page-limit"),
            lang.format("req-pages", &[("n", n.into())]),
        ));
    }
    if !r.languages.is_empty() {
        let codes: Vec<String> = r.languages.iter().map(|c| c.to_uppercase()).collect();
        out.push((t("req-languages"), codes.join(", ")));
    }
    if !r.submit_via.is_empty() {
        let via: Vec<String> = r
            .submit_via
            .iter()
            .map(|v| {
                t(match v {
                    SubmitVia::Email => "req-via-email",
                    SubmitVia::Portal => "req-via-portal",
                    SubmitVia::Post => "req-via-post",
                    SubmitVia::Form => "req-via-form",
                })
            })
            .collect();
        out.push((t("req-submit-via"), via.join(", ")));
    }
    if let Some(s) = &r.subject_line {
        out.push((t("req-subject-line"), s.clone()));
    }
    if let Some(p) = r.public {
        out.push((
            t("req-public"),
            t(match p {
                Public::Yes => "req-public-yes",
                Public::No => "req-public-no",
                Public::OnRequest => "req-public-on-request",
            }),
        ));
    }
    if let Some(d) = r.verified {
        out.push((t("req-verified"), lang.date(d)));
    }
    if let Some(s) = &r.source {
        out.push((t("req-source"), s.clone()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_in_three_languages() {
        let r = Requirements {
            word_limit: Some(5000),
            page_limit: Some(10),
            languages: vec!["en".into(), "fr".into(), "es".into()],
            submit_via: vec![SubmitVia::Email, SubmitVia::Portal],
            subject_line: Some("HCR 2026 (name of your organisation)".into()),
            public: Some(Public::OnRequest),
            verified: "2026-11-30".parse().ok(),
            source: Some("https://hatecrime.osce.org/".into()),
        };
        let mut all = String::new();
        for code in ["en", "ru", "be"] {
            all.push_str(&format!("== {code}\n"));
            for (label, value) in lines(&r, Lang::parse(code).unwrap()) {
                all.push_str(&format!("{label}: {value}\n"));
            }
        }
        assert!(lines(&Requirements::default(), Lang::EN).is_empty());
        insta::assert_snapshot!(all);
    }
}
