//! Watching the sources (`[watch]`) against a real HTTP server on
//! loopback, written here: pages whose text changes, whose markup or
//! token alone changes, 404, a redirect to another host, a loop, a hang,
//! 50 MB, 304 and gzip. `mechcal watch` and the daemon's scheduled pass
//! must report exactly the expected problems, and staff must get each
//! problem by mail once.

use std::collections::HashMap;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::support as common;

/// The test's web site: `version` switches the pages to their second text.
struct Site {
    addr: String,
    version: Arc<AtomicUsize>,
    /// Requests answered 304, and all requests, by path.
    hits: Arc<std::sync::Mutex<HashMap<String, (usize, usize)>>>,
}

impl Site {
    fn start() -> Site {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let version = Arc::new(AtomicUsize::new(0));
        let hits = Arc::new(std::sync::Mutex::new(HashMap::new()));
        let (v, h, port) = (version.clone(), hits.clone(), addr.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (v, h, port) = (v.clone(), h.clone(), port.clone());
                std::thread::spawn(move || serve(stream, &v, &h, &port));
            }
        });
        Site {
            addr,
            version,
            hits,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn hits(&self, path: &str) -> (usize, usize) {
        self.hits
            .lock()
            .unwrap()
            .get(path)
            .copied()
            .unwrap_or_default()
    }
}

fn serve(
    mut stream: TcpStream,
    version: &AtomicUsize,
    hits: &std::sync::Mutex<HashMap<String, (usize, usize)>>,
    addr: &str,
) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut first = String::new();
    if reader.read_line(&mut first).is_err() {
        return;
    }
    let mut headers = HashMap::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    if let Some(agent) = headers.get("user-agent") {
        count(hits, &format!("user-agent:{agent}"), false);
    }
    let target = first.split(' ').nth(1).unwrap_or("/");
    // A forward proxy's request names the whole URL: the site answers it
    // as its own path, and counts it under `proxy:`.
    let path = match target.strip_prefix("http://") {
        Some(rest) => {
            count(hits, "proxy:", false);
            rest.find('/').map_or("/", |i| &rest[i..]).to_string()
        }
        None => target.to_string(),
    };
    let v = version.load(Ordering::SeqCst);
    let page = |body: &str| {
        format!("<!DOCTYPE html><html><head><title>t</title></head><body>{body}</body></html>")
    };
    let (status, extra, body): (&str, String, Vec<u8>) = match path.as_str() {
        "/text" => (
            "200 OK",
            String::new(),
            page(if v == 0 {
                "<h1>Call for input</h1><p>Deadline: 31 March 2027</p><p>Word limit: 2,500</p>"
            } else {
                "<h1>Call for input</h1><p>Deadline: 30 April 2027</p><p>Word limit: 2,500</p>"
            })
            .into_bytes(),
        ),
        "/markup" => (
            "200 OK",
            String::new(),
            format!(
                "<html><body class=\"v{v}\"><script>var token = \"{}\";</script>\
                 <input type=\"hidden\" name=\"csrf\" value=\"tok-{v}-{}\">\
                 <div><p>Submissions by 1 May 2027.</p></div></body></html>",
                v * 7919,
                v * 31
            )
            .into_bytes(),
        ),
        "/gone" => (
            "404 Not Found",
            String::new(),
            page("Not found").into_bytes(),
        ),
        "/elsewhere" => (
            "302 Found",
            format!(
                "Location: http://localhost:{}/landing\r\n",
                addr.rsplit(':').next().unwrap()
            ),
            Vec::new(),
        ),
        "/landing" => (
            "200 OK",
            String::new(),
            page("<p>The new home of the call</p>").into_bytes(),
        ),
        "/loop-a" => ("302 Found", "Location: /loop-b\r\n".into(), Vec::new()),
        "/to-ftp" => (
            "302 Found",
            "Location: ftp://files.example.org/call.pdf\r\n".into(),
            Vec::new(),
        ),
        "/loop-b" => ("302 Found", "Location: /loop-a\r\n".into(), Vec::new()),
        "/flaky" => (
            "503 Service Unavailable",
            String::new(),
            page("busy").into_bytes(),
        ),
        "/busy-1" => (
            "429 Too Many Requests",
            "Retry-After: 1\r\n".into(),
            page("slow down").into_bytes(),
        ),
        "/busy-long" => (
            "429 Too Many Requests",
            "Retry-After: 3600\r\n".into(),
            page("come back later").into_bytes(),
        ),
        "/busy-forever" => (
            "503 Service Unavailable",
            "Retry-After: 18446744073709551615\r\n".into(),
            page("never").into_bytes(),
        ),
        "/hang" => {
            std::thread::sleep(Duration::from_secs(30));
            return;
        }
        "/huge" => {
            let head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 52428800\r\nConnection: close\r\n\r\n";
            let _ = stream.write_all(head.as_bytes());
            let chunk = vec![b'x'; 64 << 10];
            let mut sent = 0;
            while sent < 50 << 20 {
                if stream.write_all(&chunk).is_err() {
                    break;
                }
                sent += chunk.len();
            }
            count(hits, &path, false);
            return;
        }
        "/cp1251" => {
            // Windows-1251, said only by a <meta> (no charset in the
            // header), with named references a short table lacks.
            let mut body = b"<!DOCTYPE html><html><head><meta charset=\"windows-1251\"><title>t</title></head><body>".to_vec();
            body.extend(
                encoding_rs::WINDOWS_1251
                    .encode("<h1>Призыв к представлению материалов</h1><p>Срок подачи: 30&nbsp;апреля 2027 &Scaron;&ecirc;</p>")
                    .0
                    .iter(),
            );
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            count(hits, &path, false);
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
            return;
        }
        "/etag" => {
            let fresh = headers.get("if-none-match").is_some_and(|e| e == "\"v1\"");
            count(hits, &path, fresh);
            if fresh {
                let _ = stream.write_all(
                    b"HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nConnection: close\r\n\r\n",
                );
                return;
            }
            (
                "200 OK",
                "ETag: \"v1\"\r\n".into(),
                page("<p>Unchanged page</p>").into_bytes(),
            )
        }
        "/gzip" => {
            let text = page(if v == 0 {
                "<p>Compressed call page, due 1 June 2027</p>"
            } else {
                "<p>Compressed call page, due 15 June 2027</p>"
            });
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            gz.write_all(text.as_bytes()).unwrap();
            (
                "200 OK",
                "Content-Encoding: gzip\r\n".into(),
                gz.finish().unwrap(),
            )
        }
        _ => ("404 Not Found", String::new(), Vec::new()),
    };
    if path != "/etag" {
        count(hits, &path, false);
    }
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&body);
}

fn count(hits: &std::sync::Mutex<HashMap<String, (usize, usize)>>, path: &str, not_modified: bool) {
    let mut h = hits.lock().unwrap();
    let e = h.entry(path.to_string()).or_default();
    e.0 += usize::from(not_modified);
    e.1 += 1;
}

/// A deadline repository whose entries link to the site's pages, and a
/// config for it in `dir` (mail to `dir/maildir`, staff alerted).
fn setup(dir: &Path, site: &Site, watch: &str) -> PathBuf {
    let data = dir.join("deadlines");
    fs::create_dir_all(&data).unwrap();
    fs::copy(
        common::root().join("deadlines/registry.toml"),
        data.join("registry.toml"),
    )
    .unwrap();
    let mut toml = String::new();
    for (id, path, extra) in [
        ("watch-text", "/text", "verified = 2026-12-01\n"),
        ("watch-markup", "/markup", ""),
        ("watch-gone", "/gone", ""),
        ("watch-elsewhere", "/elsewhere", ""),
        ("watch-loop", "/loop-a", ""),
        ("watch-flaky", "/flaky", ""),
        ("watch-hang", "/hang", ""),
        ("watch-huge", "/huge", ""),
        ("watch-etag", "/etag", ""),
        ("watch-gzip", "/gzip", ""),
    ] {
        toml.push_str(&format!(
            "[[deadline]]\nid = \"{id}\"\ntitle = \"Watched {id}\"\nmechanism = \"cedaw\"\n\
             topics = [\"women\"]\ndue = 2099-01-15\nurl = \"{}\"\n{extra}\n",
            site.url(path)
        ));
    }
    fs::write(data.join("watched.toml"), toml).unwrap();
    let config = dir.join("mechcal.toml");
    fs::write(
        &config,
        format!(
            "[calendar]\ndomain = \"calendar.example.org\"\n\
             [data]\ndeadlines = \"deadlines\"\n[state]\npath = \"state.sqlite\"\n\
             [mail]\ntransport = \"maildir\"\nmaildir = \"maildir\"\n\
             [alerts]\nstaff = [\"calendar-team@example.org\"]\n\
             [watch]\ncontact = \"calendar-team@example.org\"\ntimeout = \"1s\"\n\
             host_delay = \"0ms\"\nallow_private = true\nmax_body_kib = 2048\n{watch}"
        ),
    )
    .unwrap();
    config
}

/// `mechcal watch --format json`: exit code and report.
fn watch(config: &Path, args: &[&str]) -> (i32, serde_json::Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_mechcal"))
        .arg("--config")
        .arg(config)
        .arg("watch")
        .args(["--format", "json"])
        .args(args)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let json = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{e}: {text}\n{}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap(), json)
}

/// `id -> (status, problem kind or "-")` of a report.
fn table(report: &serde_json::Value) -> HashMap<String, (String, String)> {
    report["urls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_string(),
                (
                    r["status"].as_str().unwrap().to_string(),
                    r["problem"]["kind"].as_str().unwrap_or("-").to_string(),
                ),
            )
        })
        .collect()
}

fn expect(report: &serde_json::Value, want: &[(&str, &str, &str)]) {
    let got = table(report);
    for (id, status, kind) in want {
        let (s, k) = &got[*id];
        assert_eq!(
            (s.as_str(), k.as_str()),
            (*status, *kind),
            "{id}: {report:#}"
        );
    }
    assert_eq!(got.len(), want.len(), "{report:#}");
}

/// The staff mails in the maildir, oldest first, as Python's e-mail
/// parser reads them (headers unfolded, the body decoded).
fn mails(dir: &Path) -> Vec<String> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir.join("maildir/new"))
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    files.sort_by_key(|p| fs::metadata(p).unwrap().modified().unwrap());
    files.iter().map(|p| common::read_mail(p)).collect()
}

/// The row of entry `id` in a report.
fn row<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["urls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == id)
        .unwrap_or_else(|| panic!("no row {id}: {report:#}"))
}

/// Three passes of `mechcal watch` as the pages change between them.
#[test]
fn watch_reports_each_problem_and_mails_it_once() {
    let site = Site::start();
    let t = tempfile::tempdir().unwrap();
    let config = setup(t.path(), &site, "");
    let now = ["--now", "2027-01-10T06:00:00Z"];

    // 1: the baseline. Gone, moved and the loop are problems at once;
    // the hang and the 503 are not yet (1 failure of 3).
    let (code, r) = watch(&config, &now);
    assert_eq!(code, 1);
    expect(
        &r,
        &[
            ("watch-text", "200", "-"),
            ("watch-markup", "200", "-"),
            ("watch-gone", "404", "gone"),
            ("watch-elsewhere", "200", "moved"),
            ("watch-loop", "loop", "loop"),
            ("watch-flaky", "503", "-"),
            ("watch-hang", "timeout", "-"),
            ("watch-huge", "200, cut at the body limit", "-"),
            ("watch-etag", "200", "-"),
            ("watch-gzip", "200", "-"),
        ],
    );
    let moved = row(&r, "watch-elsewhere");
    assert_eq!(
        moved["final_url"].as_str().unwrap(),
        site.url("/landing").replace("127.0.0.1", "localhost")
    );
    assert_eq!(r["summary"]["mailed"], 3);
    let agents: Vec<String> = site
        .hits
        .lock()
        .unwrap()
        .keys()
        .filter_map(|k| k.strip_prefix("user-agent:").map(str::to_string))
        .collect();
    assert_eq!(
        agents,
        [format!(
            "mechcal/{} (deadline calendar; +http://127.0.0.1:8080/; calendar-team@example.org)",
            env!("CARGO_PKG_VERSION")
        )],
        "every request names the service and the contact"
    );
    let m = mails(t.path());
    assert_eq!(m.len(), 1, "one mail for the first pass");
    assert!(
        m[0].contains("Subject: mechcal (calendar.example.org): 3 deadline links to look at (gone, loop, moved)"),
        "{}",
        m[0]
    );
    for needle in [
        "== gone: ",
        "== moved: ",
        "== loop: ",
        "watch-gone",
        "Auto-Submitted: auto-generated",
    ] {
        assert!(m[0].contains(needle), "{needle}: {}", m[0]);
    }

    // 2: the text and the gzip page change; the markup page changes only
    // its markup and token; the ETag page answers 304.
    site.version.store(1, Ordering::SeqCst);
    let now = ["--now", "2027-01-11T06:00:00Z"];
    let (code, r) = watch(&config, &now);
    assert_eq!(code, 1);
    expect(
        &r,
        &[
            ("watch-text", "200", "changed"),
            ("watch-markup", "200", "-"),
            ("watch-gone", "404", "gone"),
            ("watch-elsewhere", "200", "moved"),
            ("watch-loop", "loop", "loop"),
            ("watch-flaky", "503", "-"),
            ("watch-hang", "timeout", "-"),
            ("watch-huge", "200, cut at the body limit", "-"),
            ("watch-etag", "304", "-"),
            ("watch-gzip", "200", "changed"),
        ],
    );
    assert_eq!(
        site.hits("/etag"),
        (1, 2),
        "the second request was conditional"
    );
    let text = row(&r, "watch-text");
    assert_eq!(
        text["problem"]["excerpt"].as_str().unwrap(),
        "- Deadline: **31 March 2027**\n+ Deadline: **30 April 2027**\n"
    );
    let gz = row(&r, "watch-gzip");
    assert!(
        gz["problem"]["excerpt"]
            .as_str()
            .unwrap()
            .contains("+ Compressed call page, due **15 June 2027**"),
        "{gz}"
    );
    assert_eq!(r["summary"]["mailed"], 2, "only the two changes are new");
    let m = mails(t.path());
    assert_eq!(m.len(), 2);
    assert!(m[1].contains("Deadline: **30 April 2027**"), "{}", m[1]);
    assert!(
        !m[1].contains("== gone"),
        "gone was mailed already: {}",
        m[1]
    );

    // 3: the third failure in a row of the hang and the 503. The text
    // page's change stays a problem (verified before it); the gzip page's
    // entry has no `verified`, so only the pass that saw it shows it.
    let now = ["--now", "2027-01-12T06:00:00Z"];
    let (code, r) = watch(&config, &now);
    assert_eq!(code, 1);
    expect(
        &r,
        &[
            ("watch-text", "200", "changed"),
            ("watch-markup", "200", "-"),
            ("watch-gone", "404", "gone"),
            ("watch-elsewhere", "200", "moved"),
            ("watch-loop", "loop", "loop"),
            ("watch-flaky", "503", "failing"),
            ("watch-hang", "timeout", "failing"),
            ("watch-huge", "200, cut at the body limit", "-"),
            ("watch-etag", "304", "-"),
            ("watch-gzip", "200", "-"),
        ],
    );
    assert_eq!(r["summary"]["mailed"], 2);
    let hang = row(&r, "watch-hang");
    assert_eq!(
        hang["problem"]["message"],
        "no answer within 1s (3 checks in a row, since 2027-01-10 06:00 UTC)"
    );

    // 4: nothing new: no mail.
    let (_, r) = watch(&config, &["--now", "2027-01-13T06:00:00Z"]);
    assert_eq!(r["summary"]["mailed"], 0);
    assert_eq!(mails(t.path()).len(), 3, "each problem mailed once");

    // The entry verified after the change: no longer a problem.
    let file = t.path().join("deadlines/watched.toml");
    let text = fs::read_to_string(&file)
        .unwrap()
        .replace("verified = 2026-12-01", "verified = 2027-01-11");
    fs::write(&file, text).unwrap();
    let (_, r) = watch(
        &config,
        &["--now", "2027-01-13T07:00:00Z", "--only", "watch-text"],
    );
    expect(&r, &[("watch-text", "200", "-")]);
}

#[test]
fn dns_tls_and_private_addresses() {
    let site = Site::start();
    let t = tempfile::tempdir().unwrap();
    let config = setup(t.path(), &site, "");
    let data = t.path().join("deadlines/watched.toml");
    fs::write(
        &data,
        format!(
            "[[deadline]]\nid = \"no-such-host\"\ntitle = \"A\"\nmechanism = \"cedaw\"\ntopics = [\"women\"]\n\
             due = 2099-01-15\nurl = \"http://mechcal-watch-test.invalid/call\"\n\n\
             [[deadline]]\nid = \"not-tls\"\ntitle = \"B\"\nmechanism = \"cedaw\"\ntopics = [\"women\"]\n\
             due = 2099-01-15\nurl = \"https://{}/text\"\n",
            site.addr
        ),
    )
    .unwrap();
    let (code, r) = watch(&config, &[]);
    assert_eq!(code, 1);
    expect(
        &r,
        &[("no-such-host", "dns", "dns"), ("not-tls", "tls", "tls")],
    );

    // Without `allow_private`, a loopback URL (by address or by name) is
    // refused before anything is sent.
    let strict = fs::read_to_string(&config)
        .unwrap()
        .replace("allow_private = true", "");
    fs::write(&config, strict).unwrap();
    fs::write(
        &data,
        format!(
            "[[deadline]]\nid = \"by-address\"\ntitle = \"A\"\nmechanism = \"cedaw\"\ntopics = [\"women\"]\n\
             due = 2099-01-15\nurl = \"{}\"\n\n\
             [[deadline]]\nid = \"by-name\"\ntitle = \"B\"\nmechanism = \"cedaw\"\ntopics = [\"women\"]\n\
             due = 2099-01-15\nurl = \"http://localhost:{}/text\"\n",
            site.url("/text"),
            site.addr.rsplit(':').next().unwrap()
        ),
    )
    .unwrap();
    let before = site.hits("/text").1;
    let (code, r) = watch(&config, &[]);
    assert_eq!(code, 1);
    expect(
        &r,
        &[
            ("by-address", "refused", "refused"),
            ("by-name", "dns", "dns"),
        ],
    );
    assert_eq!(site.hits("/text").1, before, "nothing reached the server");
}

#[test]
fn usage_errors() {
    let site = Site::start();
    let t = tempfile::tempdir().unwrap();
    let config = setup(t.path(), &site, "");
    let out = Command::new(env!("CARGO_BIN_EXE_mechcal"))
        .arg("--config")
        .arg(&config)
        .args(["watch", "--only", "watch-txt"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("error: unknown entry `watch-txt`"), "{err}");
    assert!(err.contains("did you mean `watch-text`?"), "{err}");
    // `[watch] enabled` without a contact is a config error with its place.
    let bad = t.path().join("bad.toml");
    fs::write(
        &bad,
        fs::read_to_string(&config).unwrap().replace(
            "contact = \"calendar-team@example.org\"",
            "enabled = true\ninterval = \"1m\"",
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mechcal"))
        .arg("--config")
        .arg(&bad)
        .arg("watch")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("`[watch]` needs a `contact`"), "{err}");
    assert!(
        err.contains("`interval` must be a duration between 5m and 7d"),
        "{err}"
    );
}

/// A page in windows-1251 reads as its text; and after an upgrade whose
/// rules read pages differently (every stored text made by older rules),
/// one pass takes each page again as its baseline: no change reported,
/// nobody mailed, the whole page fetched (no conditional GET on the old
/// text); a later change of a page is reported and mailed as before.
#[test]
fn a_new_text_reader_rereads_each_page_once_and_mails_nobody() {
    let site = Site::start();
    let t = tempfile::tempdir().unwrap();
    let config = setup(t.path(), &site, "");
    entries_on(
        t.path(),
        &site,
        &[
            ("cyrillic", "/cp1251"),
            ("text", "/text"),
            ("etag", "/etag"),
        ],
    );
    let (code, r) = watch(&config, &[]);
    assert_eq!(code, 0, "{r:#}");
    let db = rusqlite::Connection::open(t.path().join("state.sqlite")).unwrap();
    let stored = |url: &str| -> (String, u32) {
        db.query_row(
            "SELECT text, reader FROM watched WHERE url = ?1",
            [url],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
    };
    assert_eq!(
        stored(&site.url("/cp1251")),
        (
            "Призыв к представлению материалов\nСрок подачи: 30 апреля 2027 Šê".to_string(),
            mechcal::watch::text::READER
        )
    );

    // What an older release left: its own texts, under reader 1.
    db.execute(
        "UPDATE watched SET reader = 1, fingerprint = 'old-' || url, text = 'old text of ' || url",
        [],
    )
    .unwrap();
    let etag_before = site.hits("/etag");
    let (code, r) = watch(&config, &[]);
    assert_eq!(code, 0, "{r:#}");
    expect(
        &r,
        &[
            ("cyrillic", "200", "-"),
            ("text", "200", "-"),
            ("etag", "200", "-"),
        ],
    );
    assert_eq!(r["summary"]["reread"], 3, "{r:#}");
    assert!(
        mails(t.path()).is_empty(),
        "nobody is mailed for a new reader"
    );
    let etag_after = site.hits("/etag");
    assert_eq!(
        (etag_after.0 - etag_before.0, etag_after.1 - etag_before.1),
        (0, 1),
        "the page was fetched whole, not answered 304 on the old text"
    );
    for path in ["/cp1251", "/text", "/etag"] {
        assert_eq!(stored(&site.url(path)).1, mechcal::watch::text::READER);
    }

    // The next pass reads nothing again; a change is a change.
    site.version.store(1, Ordering::SeqCst);
    let (code, r) = watch(&config, &[]);
    assert_eq!(code, 1, "{r:#}");
    assert_eq!(r["summary"]["reread"], 0, "{r:#}");
    expect(
        &r,
        &[
            ("cyrillic", "200", "-"),
            ("text", "200", "changed"),
            ("etag", "304", "-"),
        ],
    );
    let sent = mails(t.path());
    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert!(sent[0].contains("30 April 2027"), "{}", sent[0]);
}

/// Entries of `(id, path)` on the site, replacing the repository's.
fn entries_on(dir: &Path, site: &Site, entries: &[(&str, &str)]) {
    let mut toml = String::new();
    for (id, path) in entries {
        toml.push_str(&format!(
            "[[deadline]]\nid = \"{id}\"\ntitle = \"Watched {id}\"\nmechanism = \"cedaw\"\n\
             topics = [\"women\"]\ndue = 2099-01-15\nurl = \"{}\"\n\n",
            site.url(path)
        ));
    }
    fs::write(dir.join("deadlines/watched.toml"), toml).unwrap();
}

/// `Retry-After` holds back the host's next request; past a minute, the
/// host's remaining URLs wait for the next pass.
#[test]
fn retry_after_is_honoured() {
    let site = Site::start();
    let t = tempfile::tempdir().unwrap();
    let config = setup(t.path(), &site, "");
    // One host: its URLs go in URL order, /busy-1 before /text.
    entries_on(t.path(), &site, &[("busy", "/busy-1"), ("after", "/text")]);
    let start = std::time::Instant::now();
    let (_, r) = watch(&config, &[]);
    assert!(
        start.elapsed() >= Duration::from_secs(1),
        "{:?} {r:#}",
        start.elapsed()
    );
    expect(&r, &[("busy", "429", "-"), ("after", "200", "-")]);

    entries_on(
        t.path(),
        &site,
        &[("busy", "/busy-long"), ("after", "/text")],
    );
    let before = site.hits("/text").1;
    let start = std::time::Instant::now();
    let (_, r) = watch(&config, &[]);
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "{:?}",
        start.elapsed()
    );
    expect(
        &r,
        &[
            ("busy", "429", "-"),
            ("after", "not checked (Retry-After)", "-"),
        ],
    );
    assert_eq!(r["summary"]["left"], 1);
    assert_eq!(site.hits("/text").1, before, "the host was not asked again");

    // An absurd wait (u64::MAX seconds) means "the next pass", not a panic.
    entries_on(
        t.path(),
        &site,
        &[("busy", "/busy-forever"), ("after", "/text")],
    );
    let (_, r) = watch(&config, &[]);
    expect(
        &r,
        &[
            ("busy", "503", "-"),
            ("after", "not checked (Retry-After)", "-"),
        ],
    );
}

/// The daemon's scheduled pass: staff mailed once, `/metrics` counts it,
/// `/healthz` stays ok; a restart does not check again before `interval`.
#[test]
fn the_daemon_watches_on_its_schedule() {
    use crate::daemon::{eventually, health, metric, Serve};
    let site = Site::start();
    let t = tempfile::tempdir().unwrap();
    let config = setup(t.path(), &site, "enabled = true\ninterval = \"6h\"\n");
    entries_on(t.path(), &site, &[("gone", "/gone"), ("fine", "/text")]);
    let serve = Serve::start(&config, &[], &[]);
    eventually("a watch pass", Duration::from_secs(20), || {
        serve.log().contains("watch pass done")
    });
    assert_eq!(
        metric(&serve, "mechcal_watch_passes_total{result=\"ok\"}"),
        1
    );
    assert_eq!(metric(&serve, "mechcal_watch_problems{kind=\"gone\"}"), 1);
    assert_eq!(
        metric(&serve, "mechcal_watch_checks_total{answer=\"2xx\"}"),
        1
    );
    assert_eq!(
        metric(&serve, "mechcal_watch_checks_total{answer=\"4xx\"}"),
        1
    );
    assert_eq!(metric(&serve, "mechcal_watch_alerts_mailed_total"), 1);
    assert_eq!(
        health(&serve)["status"],
        "ok",
        "watching never degrades /healthz"
    );
    let m = mails(t.path());
    assert_eq!(m.len(), 1);
    assert!(m[0].contains("== gone: "), "{}", m[0]);
    drop(serve);

    // Restarted: the last pass was just now, so none runs (and nothing is mailed).
    let serve = Serve::start(&config, &[], &[]);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        metric(&serve, "mechcal_watch_passes_total{result=\"ok\"}"),
        0
    );
    assert!(!serve.log().contains("watch pass done"));
    assert_eq!(mails(t.path()).len(), 1);
}

/// `[watch] proxy`: every request goes through it, host names included
/// (this one resolves nowhere but at the proxy).
#[test]
fn checks_go_through_the_configured_proxy() {
    let site = Site::start();
    let t = tempfile::tempdir().unwrap();
    let config = setup(
        t.path(),
        &site,
        &format!("proxy = \"http://{}\"\n", site.addr),
    );
    fs::write(
        t.path().join("deadlines/watched.toml"),
        "[[deadline]]\nid = \"behind-proxy\"\ntitle = \"A\"\nmechanism = \"cedaw\"\ntopics = [\"women\"]\n\
         due = 2099-01-15\nurl = \"http://calls.mechcal-watch-test.invalid/text\"\n",
    )
    .unwrap();
    let (code, r) = watch(&config, &[]);
    assert_eq!(code, 0, "{r:#}");
    expect(&r, &[("behind-proxy", "200", "-")]);
    assert_eq!(site.hits("proxy:").1, 1);
}

/// `[watch]` turned on by a config reload (SIGHUP) starts watching at once.
#[test]
fn a_reload_turns_watching_on() {
    use crate::daemon::{eventually, metric, Serve};
    let site = Site::start();
    let t = tempfile::tempdir().unwrap();
    let config = setup(t.path(), &site, "enabled = false\n");
    entries_on(t.path(), &site, &[("fine", "/text")]);
    let serve = Serve::start(&config, &[], &[]);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        metric(&serve, "mechcal_watch_passes_total{result=\"ok\"}"),
        0
    );
    let on = fs::read_to_string(&config)
        .unwrap()
        .replace("enabled = false", "enabled = true");
    fs::write(&config, on).unwrap();
    serve.signal("HUP");
    eventually("a watch pass after SIGHUP", Duration::from_secs(20), || {
        serve.log().contains("watch pass done")
    });
    assert_eq!(
        metric(&serve, "mechcal_watch_passes_total{result=\"ok\"}"),
        1
    );
    assert_eq!(site.hits("/text").1, 1);
}

/// A SOCKS5 proxy on loopback (no authentication, CONNECT only) that
/// sends every connection to `to`, and records the host names asked for.
fn socks5(to: String) -> (String, Arc<std::sync::Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let names = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = names.clone();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(mut client) = client else { continue };
            let (to, seen) = (to.clone(), seen.clone());
            std::thread::spawn(move || {
                use std::io::Read as _;
                let mut greeting = [0u8; 2];
                client.read_exact(&mut greeting).unwrap();
                let mut methods = vec![0u8; greeting[1] as usize];
                client.read_exact(&mut methods).unwrap();
                client.write_all(&[5, 0]).unwrap();
                let mut head = [0u8; 4];
                client.read_exact(&mut head).unwrap();
                assert_eq!(head[1], 1, "CONNECT");
                let name = match head[3] {
                    3 => {
                        let mut len = [0u8; 1];
                        client.read_exact(&mut len).unwrap();
                        let mut host = vec![0u8; len[0] as usize];
                        client.read_exact(&mut host).unwrap();
                        String::from_utf8(host).unwrap()
                    }
                    1 => {
                        let mut ip = [0u8; 4];
                        client.read_exact(&mut ip).unwrap();
                        std::net::Ipv4Addr::from(ip).to_string()
                    }
                    other => panic!("address type {other}"),
                };
                let mut port = [0u8; 2];
                client.read_exact(&mut port).unwrap();
                seen.lock().unwrap().push(name);
                let server = TcpStream::connect(&to).unwrap();
                client.write_all(&[5, 0, 0, 1, 0, 0, 0, 0, 0, 0]).unwrap();
                let (mut a, mut b) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut a, &mut b);
                });
                let (mut b, mut a) = (server, client);
                let _ = std::io::copy(&mut b, &mut a);
            });
        }
    });
    (addr, names)
}

/// `proxy = "socks5h://…"` (Tor's way): the name is resolved by the proxy,
/// never here.
#[test]
fn checks_go_through_a_socks5_proxy_with_its_names() {
    let site = Site::start();
    let (proxy, names) = socks5(site.addr.clone());
    let t = tempfile::tempdir().unwrap();
    let config = setup(t.path(), &site, &format!("proxy = \"socks5h://{proxy}\"\n"));
    fs::write(
        t.path().join("deadlines/watched.toml"),
        "[[deadline]]\nid = \"through-tor\"\ntitle = \"A\"\nmechanism = \"cedaw\"\ntopics = [\"women\"]\n\
         due = 2099-01-15\nurl = \"http://calls.mechcal-watch-test.invalid/text\"\n",
    )
    .unwrap();
    let (code, r) = watch(&config, &[]);
    assert_eq!(code, 0, "{r:#}");
    expect(&r, &[("through-tor", "200", "-")]);
    assert_eq!(*names.lock().unwrap(), ["calls.mechcal-watch-test.invalid"]);
}

/// Through a proxy our resolver is not asked, so names are checked before
/// the request is handed over: an internal name (`localhost`,
/// `metadata.google.internal`) is refused by its form, a name the proxy
/// would reach is resolved here first, and literal addresses of every
/// special range (IPv4-compatible, mapped, NAT64, 6to4, Teredo…) are
/// refused — the proxy sees none of them. `*_PROXY` in the environment
/// is ignored.
#[test]
fn through_a_proxy_internal_names_and_special_addresses_are_refused() {
    let site = Site::start();
    let port = site.addr.rsplit(':').next().unwrap().to_string();
    let t = tempfile::tempdir().unwrap();
    let config = setup(
        t.path(),
        &site,
        &format!("proxy = \"http://{}\"\n", site.addr),
    );
    let strict = fs::read_to_string(&config)
        .unwrap()
        .replace("allow_private = true", "allow_private = false");
    fs::write(&config, strict).unwrap();
    let targets = [
        ("to-localhost", format!("http://localhost:{port}/text")),
        (
            "to-sub-localhost",
            format!("http://a.localhost:{port}/text"),
        ),
        (
            "to-metadata",
            "http://metadata.google.internal/computeMetadata/v1/".to_string(),
        ),
        ("to-local", format!("http://printer.local:{port}/text")),
        ("to-compatible", format!("http://[::7f00:1]:{port}/text")),
        (
            "to-mapped",
            format!("http://[::ffff:127.0.0.1]:{port}/text"),
        ),
        (
            "to-nat64",
            "http://[64:ff9b::a9fe:a9fe]/latest/meta-data/".to_string(),
        ),
        ("to-6to4", format!("http://[2002:7f00:1::1]:{port}/text")),
        ("to-teredo", "http://[2001::1]/".to_string()),
        ("to-benchmarking", "http://198.18.0.1/".to_string()),
    ];
    let mut toml = String::new();
    for (id, url) in &targets {
        toml.push_str(&format!(
            "[[deadline]]\nid = \"{id}\"\ntitle = \"A\"\nmechanism = \"cedaw\"\ntopics = [\"women\"]\n\
             due = 2099-01-15\nurl = \"{url}\"\n\n"
        ));
    }
    fs::write(t.path().join("deadlines/watched.toml"), toml).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mechcal"))
        .arg("--config")
        .arg(&config)
        .args(["watch", "--format", "json"])
        .env("http_proxy", format!("http://{}", site.addr))
        .env("HTTP_PROXY", format!("http://{}", site.addr))
        .env("ALL_PROXY", format!("http://{}", site.addr))
        .output()
        .unwrap();
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let want: Vec<(&str, &str, &str)> = targets
        .iter()
        .map(|(id, _)| (*id, "refused", "refused"))
        .collect();
    expect(&r, &want);
    assert_eq!(site.hits("proxy:").1, 0, "the proxy was handed nothing");
}
