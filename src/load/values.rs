//! Checks of free-form values shared by several files: web links and e-mail
//! addresses.

use toml::Spanned;

use crate::load::tables::Sink;

/// An absolute `http` or `https` URL with a host, normalised by the URL parser.
pub fn check_http_url(sink: &mut Sink<'_>, key: &str, value: &Spanned<String>) -> Option<String> {
    let text = value.get_ref().trim();
    match url::Url::parse(text) {
        Ok(u)
            if matches!(u.scheme(), "http" | "https")
                && u.host_str().is_some_and(|h| !h.is_empty()) =>
        {
            Some(u.to_string())
        }
        Ok(u) => {
            sink.error(
                value.span(),
                format!(
                    "`{key}` must be an http or https link, not `{}:`",
                    u.scheme()
                ),
            )
            .help =
                Some("subscribers open these links in a browser: use an `https://` address".into());
            None
        }
        Err(e) => {
            let d = sink.error(value.span(), format!("`{key}` is not a valid link: {e}"));
            if !text.contains("://") {
                d.help = Some(format!("write the full address: `https://{text}`"));
            }
            None
        }
    }
}

/// Whether `s` looks like a deliverable e-mail address: `local@domain.tld`,
/// no spaces or angle brackets, a domain of valid labels with at least one dot.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = domain.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
    local_ok && domain_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        for ok in [
            "a@b.org",
            "first.last+tag@un.org",
            "ohchr-cerd@un.org",
            "иван@пример.рф",
        ] {
            assert!(is_email(ok), "{ok}");
        }
        for bad in [
            "",
            "a",
            "a@b",
            "@b.org",
            "a@.org",
            "a b@c.org",
            "a@b..org",
            "<a@b.org>",
            "a@-b.org",
            ".a@b.org",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
    }
}
