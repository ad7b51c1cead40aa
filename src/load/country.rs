//! ISO 3166-1 alpha-2 country codes (the officially assigned ones).

const CODES: &str =
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL \
BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK \
DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU \
GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ \
LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY \
MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU \
RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO \
TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// Whether `code` is an assigned ISO 3166-1 alpha-2 code (upper case).
pub fn is_code(code: &str) -> bool {
    code.len() == 2 && CODES.split(' ').any(|c| c == code)
}

/// Help for a code that is not valid: the upper-case form, or the ISO code of
/// a country commonly written otherwise.
pub fn help(code: &str) -> String {
    let upper = code.to_ascii_uppercase();
    match upper.as_str() {
        "UK" => "the ISO 3166-1 code of the United Kingdom is `GB`".into(),
        "EL" => "the ISO 3166-1 code of Greece is `GR`".into(),
        "XK" => "Kosovo has no ISO 3166-1 code; `XK` is user-assigned, leave `country` out".into(),
        _ if upper != code && is_code(&upper) => format!("country codes are upper case: `{upper}`"),
        _ => "use an ISO 3166-1 alpha-2 code such as `BY`, `UA` or `CH`".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        assert_eq!(CODES.split(' ').count(), 249);
        assert!(is_code("BY") && is_code("CH") && is_code("ZW"));
        assert!(!is_code("by") && !is_code("UK") && !is_code("B") && !is_code("BYE"));
        assert_eq!(help("by"), "country codes are upper case: `BY`");
        assert_eq!(
            help("UK"),
            "the ISO 3166-1 code of the United Kingdom is `GB`"
        );
    }
}
