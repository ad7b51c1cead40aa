//! The benchmarks' data: `benches/gen_deadlines.py` writes it (one
//! generator for the Rust benchmarks and `benches/http.sh`).

use std::path::Path;
use std::process::Command;

// The binary's allocator (src/main.rs), with its settings
// (.cargo/config.toml): the figures are those of what ships.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Writes a repository of `count` deadlines (10 per file) at `root`.
pub fn generate(root: &Path, count: usize) {
    run(root, count, false);
}

/// The same with schedules: a third of the entries have 3 milestones, a
/// tenth repeat yearly.
#[allow(dead_code)] // not every benchmark uses it
pub fn generate_with_schedules(root: &Path, count: usize) {
    run(root, count, true);
}

/// The yearly dates' window of every benchmark: around 1 June 2027.
#[allow(dead_code)]
pub fn window() -> mechcal::model::schedule::Window {
    mechcal::model::schedule::Window::around(
        "2027-06-01T00:00:00Z".parse().expect("a valid instant"),
        365,
        730,
    )
}

fn run(root: &Path, count: usize, schedules: bool) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/gen_deadlines.py");
    let status = Command::new("python3")
        .arg(script)
        .arg(root)
        .arg(count.to_string())
        .args(schedules.then_some("schedules"))
        .status()
        .expect("python3 runs the generator");
    assert!(status.success(), "gen_deadlines.py failed");
}
