//! Embeds every language of `src/i18n/*.ftl` in the binary: adding a
//! language is adding its file (and its registry names), nothing else.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let dir = Path::new("src/i18n");
    println!("cargo:rerun-if-changed=src/i18n");
    let mut codes: Vec<String> = std::fs::read_dir(dir)
        .expect("src/i18n exists")
        .filter_map(|e| {
            let path = e.ok()?.path();
            (path.extension()? == "ftl").then(|| path.file_stem()?.to_str().map(str::to_string))?
        })
        .collect();
    // English first: it is the default and the fallback.
    codes.sort_by_key(|c| (c != "en", c.clone()));
    assert!(
        codes.first().is_some_and(|c| c == "en"),
        "src/i18n/en.ftl is required"
    );
    let mut out = String::from("/// Each language's code and Fluent text, English first.\npub static LOCALES: &[(&str, &str)] = &[\n");
    for code in &codes {
        let _ = writeln!(
            out,
            "    ({code:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/src/i18n/{code}.ftl\"))),"
        );
    }
    out.push_str("];\n");
    let target =
        Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("locales.rs");
    std::fs::write(target, out).expect("OUT_DIR is writable");
}
