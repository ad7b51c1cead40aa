//! Checks by third-party software that live in scripts (each also runs on
//! its own, and prints what it found):
//!
//! - `tests/conformance/run.sh`: every feed read by ical.js, Python
//!   icalendar and vobject, which must agree with mechcal's JSON;
//! - `tests/browser/run.sh`: the pages in headless Chromium (screenshots,
//!   the DOM, no request off loopback, the Content-Security-Policy), the
//!   sign-up flow, and axe-core on every kind of page;
//! - `systemd/check.sh`: the unit in `systemd-analyze verify` and
//!   `security`, and every system call under its `SystemCallFilter=`.
//!
//! The scripts install their npm and PyPI packages under `target/`; the
//! Debian programs they drive come through `tools::need` first.

use std::process::Command;

use crate::support::{python_with, root};
use crate::tools;

/// Runs `script` with the test build of mechcal; fails with its output.
fn run(script: &str, envs: &[(&str, &std::path::Path)]) {
    let out = Command::new("bash")
        .arg(root().join(script))
        .current_dir(root())
        .env("MECHCAL_BIN", env!("CARGO_BIN_EXE_mechcal"))
        .envs(envs.iter().copied())
        .output()
        .unwrap();
    let shown = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{script} failed:\n{shown}");
    println!("{shown}");
}

#[test]
fn feeds_read_alike_in_icaljs_icalendar_and_vobject() {
    let tools = [&tools::NODE, &tools::NPM, &tools::CURL, &tools::PYTHON3];
    if !tools::need(
        &tools,
        "third_party::feeds_read_alike_in_icaljs_icalendar_and_vobject",
    ) {
        return;
    }
    // The shared test venv, through its lock (pip in a venv another test
    // is importing from breaks that test).
    let python = python_with(&["icalendar==7.3.0", "vobject==0.9.9"]);
    run("tests/conformance/run.sh", &[("MECHCAL_PYTHON", &python)]);
}

#[test]
fn pages_render_in_chromium_and_pass_axe() {
    let tools = [
        &tools::CHROMIUM,
        &tools::NODE,
        &tools::NPM,
        &tools::SQLITE3,
        &tools::PYTHON3,
    ];
    if !tools::need(&tools, "third_party::pages_render_in_chromium_and_pass_axe") {
        return;
    }
    run("tests/browser/run.sh", &[]);
}

#[test]
fn the_systemd_unit_verifies_and_filters_every_call_mechcal_makes() {
    let tools = [&tools::SYSTEMD_ANALYZE, &tools::STRACE];
    if !tools::need(
        &tools,
        "third_party::the_systemd_unit_verifies_and_filters_every_call_mechcal_makes",
    ) {
        return;
    }
    run("systemd/check.sh", &[]);
}
