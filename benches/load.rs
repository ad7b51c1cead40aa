//! Load + validate a generated repository of 10,000 deadlines in 1,000 files
//! (target: < 150 ms on the 2-core CI machine); and 10,000 entries of which
//! a third have 3 milestones and a tenth repeat yearly (issue 13: the same
//! target).
//!
//! With the allocator as `mechcal check` has it (`serve`, which gives
//! freed pages back at once, reloads slower: docs/src/design/performance.md says by how much).
//!
//! Run: `cargo bench --bench load`

use std::path::PathBuf;

use chrono_tz::Tz;

mod common;

fn main() {
    divan::main();
}

const FILES: usize = 1_000;
const PER_FILE: usize = 10;

fn repository() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("deadlines");
    common::generate(&root, FILES * PER_FILE);
    let loaded = mechcal::load::deadlines::load(
        &root,
        mechcal::load::deadlines::DEFAULT_MAX_BYTES,
        Tz::Europe__Zurich,
        common::window(),
    );
    assert_eq!(loaded.errors(), 0, "generated data must be valid");
    assert_eq!(
        loaded.catalog.as_ref().unwrap().deadlines().len(),
        FILES * PER_FILE
    );
    (tmp, root)
}

/// The whole job of `mechcal check`: walk, read, parse, validate, build the catalog.
#[divan::bench(sample_count = 30)]
fn load_10k_deadlines_1k_files(bencher: divan::Bencher) {
    let (_tmp, root) = repository();
    bencher.bench(|| {
        mechcal::load::deadlines::load(
            divan::black_box(&root),
            mechcal::load::deadlines::DEFAULT_MAX_BYTES,
            Tz::Europe__Zurich,
            common::window(),
        )
    });
}

fn scheduled_repository() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("deadlines");
    common::generate_with_schedules(&root, FILES * PER_FILE);
    let loaded = mechcal::load::deadlines::load(
        &root,
        mechcal::load::deadlines::DEFAULT_MAX_BYTES,
        Tz::Europe__Zurich,
        common::window(),
    );
    assert_eq!(loaded.errors(), 0, "generated data must be valid");
    // 3,334 entries × 3 milestones, 6,666 single ones, and a tenth of
    // them yearly: about 3 occurrences each inside the window.
    let items = loaded.catalog.as_ref().unwrap().deadlines().len();
    assert!(items > 16_000, "{items} items");
    (tmp, root)
}

/// The same job on entries with milestones and yearly dates.
#[divan::bench(sample_count = 30)]
fn load_10k_entries_with_schedules(bencher: divan::Bencher) {
    let (_tmp, root) = scheduled_repository();
    bencher.bench(|| {
        mechcal::load::deadlines::load(
            divan::black_box(&root),
            mechcal::load::deadlines::DEFAULT_MAX_BYTES,
            Tz::Europe__Zurich,
            common::window(),
        )
    });
}

/// Validation alone, on texts already in memory (no file-system work).
#[divan::bench(sample_count = 30)]
fn validate_10k_deadlines_in_memory(bencher: divan::Bencher) {
    let (_tmp, root) = repository();
    bencher
        .with_inputs(|| mechcal::load::deadlines::scan(&root))
        .bench_values(|sources| {
            mechcal::load::deadlines::validate(sources, Tz::Europe__Zurich, common::window())
        });
}
