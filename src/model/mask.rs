//! What logs, stored errors and staff mail may show of a person: masked
//! addresses (`a***@example.org`) and shortened OpenPGP fingerprints. Pure
//! text functions, used from the loader's diagnostics to the state's
//! stored errors.

/// `text` with every OpenPGP fingerprint (40 hex digits) shortened to
/// `D47B…1EE0`: a whole fingerprint finds its owner on a key server.
pub fn mask_fingerprints(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() == 40 {
            out.push_str(&format!("{}…{}", &run[..4], &run[36..]));
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_hexdigit() {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// `text` with every word that holds an `@` masked as [`mask`] does.
pub fn mask_addresses(text: &str) -> String {
    let delimiter = |c: char| c.is_whitespace() || "\"'`<>,;()[]{}=".contains(c);
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if word.contains('@') {
            out.push_str(&mask(word));
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in text.chars() {
        if delimiter(c) {
            flush(&mut word, &mut out);
            out.push(c);
        } else {
            word.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// `a***@example.org`: enough to recognise an address, not to harvest it.
pub fn mask(email: &str) -> String {
    match email.rsplit_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".into(),
    }
}
