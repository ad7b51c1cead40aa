//! The benchmarks' data: `benches/gen_deadlines.py` writes it (one
//! generator for the Rust benchmarks and `benches/http.sh`).

use std::path::Path;
use std::process::Command;

/// Writes a repository of `count` deadlines (10 per file) at `root`.
pub fn generate(root: &Path, count: usize) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/gen_deadlines.py");
    let status = Command::new("python3")
        .arg(script)
        .arg(root)
        .arg(count.to_string())
        .status()
        .expect("python3 runs the generator");
    assert!(status.success(), "gen_deadlines.py failed");
}
