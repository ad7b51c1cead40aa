//! Rendering 10,000 events: mechcal's feed renderer against Python
//! `icalendar` building and serialising the same calendar, in one run.
//! Target: mechcal ≥ 50× faster.
//!
//! Run: `cargo bench --bench render` (installs icalendar into
//! target/conformance/venv on first run).

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use chrono::{DateTime, Duration};
use chrono_tz::Tz;
use mechcal::i18n::Lang;
use mechcal::model::catalog::Filter;
use mechcal::render::feed::{self, Alarm, FeedOptions, Versions};
use mechcal::render::{json, links::Links};

const FILES: usize = 1_000;
const PER_FILE: usize = 10;
const RUNS: usize = 15;

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn python(top: &Path) -> std::path::PathBuf {
    let venv = top.join("target/conformance/venv");
    let py = venv.join("bin/python");
    if !py.exists() {
        let ok = Command::new("python3")
            .arg("-m")
            .arg("venv")
            .arg(&venv)
            .status()
            .unwrap();
        assert!(ok.success(), "python3 -m venv failed");
    }
    let ok = Command::new(venv.join("bin/pip"))
        .args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "icalendar==7.3.0",
        ])
        .status()
        .unwrap();
    assert!(ok.success(), "pip install icalendar failed");
    py
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing
    // and expects a quick exit.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    // Feeds are rendered by `serve`: its allocator settings.
    mechcal::os::allocator::for_serving();
    let top = Path::new(env!("CARGO_MANIFEST_DIR"));
    compare(top, false);
    // Issue 13: a third of the entries with 3 milestones, a tenth yearly.
    compare(top, true);
}

/// Renders the generated repository (with schedules or not) with mechcal
/// and with Python icalendar, and prints both and their ratio.
fn compare(top: &Path, schedules: bool) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("deadlines");
    if schedules {
        common::generate_with_schedules(&root, FILES * PER_FILE);
    } else {
        common::generate(&root, FILES * PER_FILE);
    }
    let catalog = mechcal::load::deadlines::load(
        &root,
        mechcal::load::deadlines::DEFAULT_MAX_BYTES,
        Tz::Europe__Zurich,
        common::window(),
    )
    .catalog
    .expect("valid data");
    let versions = Versions::default();
    let opts = FeedOptions {
        name: "Deadlines".into(),
        domain: "calendar.example.org".into(),
        lang: Lang::EN,
        alarm: Alarm::parse("-P1D"),
        refresh: Duration::hours(6),
        cutoff: DateTime::UNIX_EPOCH,
    };
    let filter = Filter::default();

    let bytes = feed::render(&catalog, &filter, &opts, &versions);
    let events = bytes.matches("BEGIN:VEVENT").count();
    assert_eq!(events, catalog.deadlines().len());
    let rust: Vec<f64> = (0..RUNS)
        .map(|_| {
            let t = Instant::now();
            let out = feed::render(&catalog, &filter, &opts, &versions);
            std::hint::black_box(out);
            t.elapsed().as_secs_f64()
        })
        .collect();
    let rust = median(rust);

    // The same calendar for Python: every field the feed holds, from the JSON.
    let doc = json::render(
        &catalog,
        &filter,
        &opts,
        &versions,
        &Links::new("http://127.0.0.1/"),
    );
    let json_path = tmp.path().join("deadlines.json");
    std::fs::write(&json_path, doc).unwrap();
    let py = python(top);
    let out = Command::new(py)
        .arg(top.join("benches/render_python.py"))
        .arg(&json_path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let python = report["median_seconds"].as_f64().unwrap();
    assert_eq!(report["events"].as_u64().unwrap() as usize, events);

    let what = if schedules {
        format!(
            "{} entries with milestones and yearly dates",
            FILES * PER_FILE
        )
    } else {
        format!("{} entries", FILES * PER_FILE)
    };
    println!("render {events} events of {what} ({} bytes):", bytes.len());
    println!(
        "  mechcal feed::render   median {:8.2} ms ({RUNS} runs)",
        rust * 1e3
    );
    println!(
        "  Python icalendar {}  median {:8.2} ms ({} runs, {} bytes)",
        report["version"].as_str().unwrap_or("?"),
        python * 1e3,
        report["runs"],
        report["bytes"]
    );
    println!(
        "  ratio: mechcal is {:.0}x faster (target >= 50x)",
        python / rust
    );
}
