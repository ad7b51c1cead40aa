//! The pages' one stylesheet (inline, in every page's `<style>`) and the
//! Content-Security-Policy that allows it, and nothing else, by its hash.

/// The `Content-Security-Policy` of every page: nothing may load, no script
/// may run, no frame may hold the page, forms post only to this server, and
/// the one style allowed is the page's own `<style>`, named by its hash
/// (so not even an injected `style` attribute would apply).
pub fn content_security_policy() -> &'static str {
    static POLICY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    POLICY.get_or_init(|| {
        use base64::Engine as _;
        use sha2::Digest as _;
        let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(STYLE));
        format!(
            "default-src 'none'; style-src 'sha256-{hash}'; img-src 'self'; \
             form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
        )
    })
}

/// The same policy for a `<meta http-equiv>` in every page, so that the
/// static export (`mechcal render`), served by any web server, carries it
/// too. `frame-ancestors` is left out: browsers ignore it there (and say
/// so); the served pages' header keeps it.
pub fn content_security_policy_meta() -> &'static str {
    static POLICY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    POLICY.get_or_init(|| content_security_policy().replace("; frame-ancestors 'none'", ""))
}

pub(super) const STYLE: &str = "
:root{color-scheme:light dark;--fg:#1b1b1b;--muted:#5f6368;--line:#d9d9d9;--accent:#0b57d0;--bg:#fff;--tag:#eef2f7}
@media (prefers-color-scheme:dark){:root{--fg:#e8e8e8;--muted:#a0a4a8;--line:#3a3a3a;--accent:#8ab4f8;--bg:#121212;--tag:#23272e}}
*{box-sizing:border-box}
body{margin:0 auto;max-width:52rem;padding:1rem;font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:var(--fg);background:var(--bg);overflow-wrap:anywhere}
a{color:var(--accent)}
header{display:flex;flex-wrap:wrap;justify-content:space-between;align-items:baseline;gap:.5rem}
h1{font-size:1.5rem;margin:.25rem 0}
h2{font-size:1.15rem;margin:1.5rem 0 .5rem;border-bottom:1px solid var(--line)}
nav p{margin:.25rem 0}
nav a,nav strong{margin-right:.6rem;white-space:nowrap}
ul.deadlines{list-style:none;padding:0;margin:0}
ol.timeline li.past{color:var(--muted)}
ol.timeline li.next{font-weight:600}
ul.deadlines li{padding:.6rem 0;border-bottom:1px solid var(--line)}
.when{font-weight:600}
.left{color:var(--muted);margin-left:.4rem}
.mech{font-weight:600}
.tag{display:inline-block;background:var(--tag);border-radius:.3rem;padding:0 .4rem;margin:.15rem .3rem 0 0;font-size:.85rem}
.status{font-size:.85rem;font-weight:600;text-transform:uppercase;margin-left:.3rem}
.cancelled .title{text-decoration:line-through}
.subscribe{border:1px solid var(--line);border-radius:.5rem;padding:.75rem 1rem;margin:1rem 0}
.subscribe code{display:block;padding:.4rem;background:var(--tag);border-radius:.3rem;user-select:all}
.subscribe ul{padding-left:1.2rem;margin:.5rem 0 0}
.small{font-size:.9rem;color:var(--muted)}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem}
dt{font-weight:600}
dd{margin:0}
.text{white-space:pre-wrap}
details summary{cursor:pointer;font-weight:600;margin-top:1.5rem}
fieldset{border:1px solid var(--line);border-radius:.3rem;margin:.5rem 0}
label.choice{display:inline-block;margin-right:.8rem;white-space:nowrap}
input,select,button{font:inherit}
input[type=email]{width:100%;max-width:28rem}
.error{color:#b3261e;font-weight:600}
.notice{font-weight:600}
";
