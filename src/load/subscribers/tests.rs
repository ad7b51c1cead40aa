use super::*;
use crate::testing;

const NOW: &str = "2026-12-03T00:00:00Z";

/// Key files as `parse` is given them: the fixtures of src/openpgp.
fn read_fixture(path: &str) -> Result<Vec<u8>, String> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/openpgp/");
    std::fs::read(format!("{dir}{}", path.trim_start_matches("keys/")))
        .map_err(|_| "no such file".into())
}

/// The defaults of the sample config, keys judged at [`NOW`].
fn defaults(expired_key_is_error: bool) -> Defaults<'static> {
    Defaults {
        remind_days: &[30, 7, 1],
        timezone: Tz::Europe__Zurich,
        now: NOW.parse().unwrap(),
        expired_key_is_error,
    }
}

fn run(text: &str) -> (Vec<Subscriber>, String) {
    let registry = testing::catalog(&[]).registry().clone();
    let defaults = defaults(true);
    let (subs, diags) = parse(
        &SourceFile::new("config/subscribers.toml", text),
        &registry,
        &defaults,
        &read_fixture,
    );
    (subs, crate::load::diagnostic::render_human(&diags))
}

#[test]
fn valid_subscribers_with_defaults() {
    let (subs, diags) = run(r#"
[[subscriber]]
name = "Anna"
email = "Anna@Example.org"

[[subscriber]]
name = "Lawyers' group"
email = "lawyers@example.org"
topics = ["women"]
mechanisms = ["cerd", "upr"]
remind_days = [14, 60]
timezone = "America/New_York"
language = "ru"
digest = false
"#);
    assert_eq!(diags, "");
    assert_eq!(subs.len(), 2);
    assert_eq!(subs[0].filter, Filter::default());
    assert_eq!(subs[0].remind_days, [30, 7, 1]);
    assert_eq!(subs[0].timezone, Tz::Europe__Zurich);
    assert_eq!(subs[0].key, "anna@example.org");
    assert!(subs[0].digest);
    assert_eq!(subs[1].remind_days, [60, 14]);
    assert_eq!(subs[1].language, Lang::parse("ru").unwrap());
    assert!(!subs[1].digest);
    assert_eq!(subs[1].line, 6);
}

#[test]
fn errors() {
    let cases = [
        ("subscribers_bad_email", "[[subscriber]]\nname = \"A\"\nemail = \"Anna <anna@example.org>\"\n"),
        ("subscribers_duplicate_email", "[[subscriber]]\nname = \"A\"\nemail = \"anna@example.org\"\n\n[[subscriber]]\nname = \"B\"\nemail = \"ANNA@example.org\"\n"),
        ("subscribers_unknown_topic", "[[subscriber]]\nname = \"A\"\nemail = \"a@example.org\"\ntopics = [\"womens\"]\nmechanisms = [\"cerdd\"]\n"),
        ("subscribers_bad_fields", "[[subscriber]]\nname = \"A\"\nemail = \"a@example.org\"\nlanguage = \"de\"\ndigest = \"yes\"\ntimezone = \"Europe/Geneva\"\nremind_days = [400]\nemial = \"x\"\n"),
        ("subscribers_missing", "[[subscriber]]\ntopics = []\n"),
        ("subscribers_not_array", "[subscriber]\nname = \"A\"\n"),
    ];
    for (name, text) in cases {
        let (subs, diags) = run(text);
        assert!(!diags.is_empty(), "{name}");
        assert!(subs.len() <= 1, "{name}");
        insta::assert_snapshot!(name, diags, text);
    }
}

#[test]
fn diagnostics_mask_addresses() {
    let registry = testing::catalog(&[]).registry().clone();
    let defaults = defaults(true);
    let text = "[[subscriber]]\nname = \"A\"\nemail = \"anna.secret@example.org\"\n\n\
                [[subscriber]]\nname = \"B\"\nemail = \"ANNA.secret@example.org\"\n\n\
                [[subscriber]]\nname = \"Corinna Secret\"\ndigest = 3\nemail = \"Boris Secret <boris.secret@example.org>\"\n\
                emial = \"x.secret@example.org\" # other@example.org, topics = [\"womens\"]\n";
    let (_, mut diags) = parse(
        &SourceFile::new("subscribers.toml", text),
        &registry,
        &defaults,
        &read_fixture,
    );
    diags.iter_mut().for_each(mask_diagnostic);
    let shown = crate::load::diagnostic::render_human(&diags);
    assert!(!shown.contains("secret@"), "{shown}");
    assert!(!shown.contains("other@"), "{shown}");
    assert!(!shown.contains("Secret"), "{shown}");
    insta::assert_snapshot!(shown);
}

#[test]
fn openpgp_keys_inline_or_in_a_file() {
    let inline = String::from_utf8(read_fixture("cv25519.asc").unwrap()).unwrap();
    let (subs, diags) = run(&format!(
        "[[subscriber]]\nname = \"A\"\nemail = \"a@example.org\"\nopenpgp_key = \"keys/rsa.asc\"\n\n\
         [[subscriber]]\nname = \"B\"\nemail = \"b@example.org\"\nopenpgp_key = \"\"\"\n{inline}\"\"\"\n\n\
         [[subscriber]]\nname = \"C\"\nemail = \"c@example.org\"\n"
    ));
    assert_eq!(diags, "");
    assert!(subs[0]
        .openpgp
        .as_ref()
        .is_some_and(|c| c.expires.is_some()));
    assert!(subs[1]
        .openpgp
        .as_ref()
        .is_some_and(|c| c.expires.is_none()));
    assert!(subs[2].openpgp.is_none());
}

#[test]
fn the_service_keeps_a_subscriber_whose_key_expired_and_warns() {
    let registry = testing::catalog(&[]).registry().clone();
    let defaults = defaults(false);
    let text = "[[subscriber]]\nname = \"A\"\nemail = \"a@example.org\"\nopenpgp_key = \"keys/expired.asc\"\n\n\
                [[subscriber]]\nname = \"B\"\nemail = \"b@example.org\"\nopenpgp_key = \"keys/revoked.asc\"\n";
    let (subs, diags) = parse(
        &SourceFile::new("s.toml", text),
        &registry,
        &defaults,
        &read_fixture,
    );
    let shown = crate::load::diagnostic::render_human(&diags);
    // Expired: a warning, and the subscriber stays (their mail is held).
    assert!(
        shown.contains("s.toml:4:15: warning: `openpgp_key`: key"),
        "{shown}"
    );
    assert!(shown.contains("held, never sent in clear"), "{shown}");
    assert_eq!(subs.len(), 1);
    let cert = subs[0].openpgp.as_ref().unwrap();
    assert!(cert.usable_at(defaults.now).is_err());
    // Revoked stays an error.
    assert!(
        shown.contains("s.toml:9:15: error: `openpgp_key`: key"),
        "{shown}"
    );
}

#[test]
fn unusable_openpgp_keys_are_errors_with_the_fingerprint() {
    let mut text = String::new();
    for (i, key) in [
        "expired.asc",
        "revoked.asc",
        "sign-only.asc",
        "rsa.secret.asc",
        "missing.asc",
        "",
    ]
    .iter()
    .enumerate()
    {
        text.push_str(&format!(
            "[[subscriber]]\nname = \"S{i}\"\nemail = \"s{i}@example.org\"\nopenpgp_key = \"{}\"\n\n",
            if key.is_empty() { String::new() } else { format!("keys/{key}") }
        ));
    }
    let (subs, diags) = run(&text);
    assert!(subs.is_empty(), "{subs:?}");
    for want in [
        "expired on 2020-06-01",
        "is revoked",
        "no usable encryption subkey",
        "secret (private) key",
        "cannot read the OpenPGP key file `keys/missing.asc`",
        "`openpgp_key` is empty",
    ] {
        assert!(diags.contains(want), "{want} missing from\n{diags}");
    }
    insta::assert_snapshot!(diags);
    // Masked (the journal, /healthz, staff alerts): no whole
    // fingerprint, and no key file name.
    let registry = testing::catalog(&[]).registry().clone();
    let defaults = defaults(true);
    let (_, mut all) = parse(
        &SourceFile::new("s.toml", &text),
        &registry,
        &defaults,
        &read_fixture,
    );
    all.iter_mut().for_each(mask_diagnostic);
    let masked = crate::load::diagnostic::render_human(&all);
    assert!(masked.contains("key E0C3…083F expired"), "{masked}");
    assert!(
        !masked.contains("E0C31BBAFAF790AFE8C88AB67A125007D16C083F"),
        "{masked}"
    );
    assert!(!masked.contains("= \"keys/expired.asc"), "{masked}");
}

#[test]
fn masking() {
    assert_eq!(
        mask_fingerprints("key E0C31BBAFAF790AFE8C88AB67A125007D16C083F expired; id 0123abcd"),
        "key E0C3…083F expired; id 0123abcd"
    );
    assert_eq!(mask("anna@example.org"), "a***@example.org");
    assert_eq!(mask("иван@пример.рф"), "и***@пример.рф");
    assert_eq!(mask("broken"), "***");
}
