//! ISO 639-1 language codes (two letters), for the languages a submission
//! may be written in.

const CODES: &str = "aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch \
co cr cs cu cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he \
hi ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv \
kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny \
oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su \
sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu";

/// Whether `code` is an ISO 639-1 code (lower case).
pub fn is_code(code: &str) -> bool {
    code.len() == 2 && CODES.split(' ').any(|c| c == code)
}

/// Help for a code that is not one: its lower-case form, the ISO 639-1
/// code of a language commonly written otherwise, or examples.
pub fn help(code: &str) -> String {
    let lower = code.to_ascii_lowercase();
    match lower.as_str() {
        "by" => "the ISO 639-1 code of Belarusian is `be` (`BY` is the country)".into(),
        "ua" => "the ISO 639-1 code of Ukrainian is `uk` (`UA` is the country)".into(),
        "cz" => "the ISO 639-1 code of Czech is `cs`".into(),
        "gr" => "the ISO 639-1 code of Greek is `el`".into(),
        "eng" | "english" => "the ISO 639-1 code of English is `en`".into(),
        "fre" | "fra" | "french" => "the ISO 639-1 code of French is `fr`".into(),
        "spa" | "spanish" => "the ISO 639-1 code of Spanish is `es`".into(),
        "rus" | "russian" => "the ISO 639-1 code of Russian is `ru`".into(),
        _ if lower != code && is_code(&lower) => {
            format!("language codes are lower case: `{lower}`")
        }
        _ => "use ISO 639-1 codes: `en`, `fr`, `es`, `ru`, `ar`, `zh`, `be`…".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        assert_eq!(CODES.split(' ').count(), 183);
        assert!(is_code("en") && is_code("be") && is_code("zu"));
        assert!(!is_code("EN") && !is_code("xx") && !is_code("eng"));
        assert_eq!(help("EN"), "language codes are lower case: `en`");
        assert!(help("by").contains("`be`"));
    }
}
