//! Helpers shared by the integration tests (each test file includes this
//! module with `mod common;` and uses what it needs).
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository's top directory.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Copies a directory tree.
pub fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The Python of target/conformance/venv (created if missing) with
/// `packages` (pinned `name==version`) installed.
pub fn python_with(packages: &[&str]) -> PathBuf {
    let venv = root().join("target/conformance/venv");
    if !venv.join("bin/python").exists() {
        assert!(Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .unwrap()
            .success());
    }
    let ok = Command::new(venv.join("bin/pip"))
        .args(["install", "--quiet", "--disable-pip-version-check"])
        .args(packages)
        .status()
        .unwrap();
    assert!(ok.success(), "pip install {packages:?} failed");
    venv.join("bin/python")
}
