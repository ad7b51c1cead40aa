//! Absolute links to the server's resources, built from `[calendar] base_url`.

use crate::i18n::Lang;
use crate::model::catalog::Filter;

#[derive(Clone, Debug)]
pub struct Links {
    /// Ends in `/`.
    base: String,
}

impl Links {
    pub fn new(base_url: &str) -> Links {
        let mut base = base_url.to_string();
        if !base.ends_with('/') {
            base.push('/');
        }
        Links { base }
    }

    fn with_query(&self, path: &str, filter: &Filter, lang: Option<Lang>) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for t in &filter.topics {
            q.append_pair("topic", t);
        }
        for m in &filter.mechanisms {
            q.append_pair("mechanism", m);
        }
        if let Some(lang) = lang {
            q.append_pair("lang", lang.code());
        }
        let q = q.finish();
        if q.is_empty() {
            format!("{}{path}", self.base)
        } else {
            format!("{}{path}?{q}", self.base)
        }
    }

    /// The feed of a filter: the short `/topics/x.ics` or `/mechanisms/x.ics`
    /// form when the filter names just one thing.
    pub fn feed(&self, filter: &Filter, lang: Option<Lang>) -> String {
        match (filter.topics.as_slice(), filter.mechanisms.as_slice()) {
            ([t], []) => self.with_query(&format!("topics/{t}.ics"), &Filter::default(), lang),
            ([], [m]) => self.with_query(&format!("mechanisms/{m}.ics"), &Filter::default(), lang),
            _ => self.with_query("calendar.ics", filter, lang),
        }
    }

    /// The same address with the `webcal://` scheme, which makes calendar
    /// applications offer to subscribe.
    pub fn webcal(&self, http_url: &str) -> String {
        let rest = http_url
            .strip_prefix("https://")
            .or_else(|| http_url.strip_prefix("http://"))
            .unwrap_or(http_url);
        format!("webcal://{rest}")
    }

    pub fn page(&self, filter: &Filter, lang: Option<Lang>) -> String {
        self.with_query("", filter, lang)
    }

    pub fn json(&self, filter: &Filter, lang: Option<Lang>) -> String {
        self.with_query("deadlines.json", filter, lang)
    }

    pub fn detail(&self, id: &str, lang: Option<Lang>) -> String {
        self.with_query(&format!("deadlines/{id}"), &Filter::default(), lang)
    }

    /// The absolute path of `rel` under `base_url` (`/calendar/unsubscribe`
    /// behind a proxy at `/calendar/`): for form actions, which must stay
    /// on the page's own origin (`form-action 'self'`) whatever host the
    /// page was reached by.
    pub fn path(&self, rel: &str) -> String {
        let prefix = url::Url::parse(&self.base).map_or("/".to_string(), |u| u.path().to_string());
        format!("{prefix}{rel}")
    }

    pub fn one(&self, id: &str, lang: Option<Lang>) -> String {
        self.with_query(&format!("deadlines/{id}.ics"), &Filter::default(), lang)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let l = Links::new("https://cal.example.org/mechcal");
        assert_eq!(l.path("unsubscribe"), "/mechcal/unsubscribe");
        assert_eq!(
            Links::new("http://127.0.0.1:8080/").path("unsubscribe"),
            "/unsubscribe"
        );
        let f = |t: &[&str], m: &[&str]| Filter {
            topics: t.iter().map(|s| s.to_string()).collect(),
            mechanisms: m.iter().map(|s| s.to_string()).collect(),
        };
        assert_eq!(
            l.feed(&f(&[], &[]), None),
            "https://cal.example.org/mechcal/calendar.ics"
        );
        assert_eq!(
            l.feed(&f(&["women"], &[]), Some(Lang::parse("ru").unwrap())),
            "https://cal.example.org/mechcal/topics/women.ics?lang=ru"
        );
        assert_eq!(
            l.feed(&f(&[], &["cerd"]), None),
            "https://cal.example.org/mechcal/mechanisms/cerd.ics"
        );
        assert_eq!(
            l.feed(&f(&["a", "b"], &["cerd"]), Some(Lang::EN)),
            "https://cal.example.org/mechcal/calendar.ics?topic=a&topic=b&mechanism=cerd&lang=en"
        );
        assert_eq!(
            l.webcal("https://cal.example.org/x.ics"),
            "webcal://cal.example.org/x.ics"
        );
        assert_eq!(
            l.webcal("http://127.0.0.1:8080/x.ics"),
            "webcal://127.0.0.1:8080/x.ics"
        );
        assert_eq!(
            l.page(&f(&[], &[]), None),
            "https://cal.example.org/mechcal/"
        );
        assert_eq!(
            l.one("x-1", None),
            "https://cal.example.org/mechcal/deadlines/x-1.ics"
        );
    }
}
