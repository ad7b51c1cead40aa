//! Documentation generated from the command-line definitions themselves,
//! so it cannot drift from them: manual pages (`mechcal man`) and shell
//! completions (`mechcal completions`).

use std::path::{Path, PathBuf};

use clap::CommandFactory as _;

use super::Args;

/// Writes `mechcal.1` and a page per subcommand (`mechcal-check.1`,
/// `mechcal-subscribers-pending.1`…) into `dir`, created if needed; the
/// files written, sorted.
pub fn man_pages(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    clap_mangen::generate_to(Args::command(), dir)?;
    let mut written = pages_in(dir)?;
    written.sort();
    Ok(written)
}

/// The `*.1` files in `dir`.
fn pages_in(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with("mechcal") && name.ends_with(".1") {
            out.push(path);
        }
    }
    Ok(out)
}

/// Every subcommand as the words that name it (`["check"]`,
/// `["subscribers", "pending"]`…), nested ones after their parent; clap's
/// own `help` and groups that need a subcommand left out. The book's commands reference is checked against
/// this list.
pub fn command_paths() -> Vec<Vec<String>> {
    fn walk(command: &clap::Command, above: &[String], out: &mut Vec<Vec<String>>) {
        for sub in command.get_subcommands() {
            if sub.get_name() == "help" {
                continue;
            }
            let mut path = above.to_vec();
            path.push(sub.get_name().to_owned());
            // A group that does nothing without a subcommand (`state`) is
            // documented through its subcommands.
            if !sub.is_subcommand_required_set() {
                out.push(path.clone());
            }
            walk(sub, &path, out);
        }
    }
    let mut out = Vec::new();
    walk(&Args::command(), &[], &mut out);
    out
}

/// Prints `shell`'s completion script for `mechcal` to `out`.
pub fn completions(shell: clap_complete::Shell, out: &mut dyn std::io::Write) {
    clap_complete::generate(shell, &mut Args::command(), "mechcal", out);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every subcommand, nested ones included, has its page, and each page
    /// names its options.
    #[test]
    fn a_page_for_every_command() {
        let dir = tempfile::tempdir().unwrap();
        let pages = man_pages(dir.path()).unwrap();
        let names: Vec<String> = pages
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        let mut want = vec!["mechcal.1".to_string()];
        for sub in Args::command().get_subcommands() {
            want.push(format!("mechcal-{}.1", sub.get_name()));
            for nested in sub.get_subcommands() {
                want.push(format!(
                    "mechcal-{}-{}.1",
                    sub.get_name(),
                    nested.get_name()
                ));
            }
        }
        for w in &want {
            assert!(names.contains(w), "{w} missing from {names:?}");
        }
        let check = std::fs::read_to_string(dir.path().join("mechcal-check.1")).unwrap();
        assert!(check.contains("\\-\\-format"), "{check}");
        assert!(check.starts_with(".ie \\n(.g .ds Aq"), "{check}");
    }

    #[test]
    fn completions_name_every_subcommand() {
        for shell in [
            clap_complete::Shell::Bash,
            clap_complete::Shell::Zsh,
            clap_complete::Shell::Fish,
        ] {
            let mut out = Vec::new();
            completions(shell, &mut out);
            let text = String::from_utf8(out).unwrap();
            for sub in Args::command().get_subcommands() {
                assert!(text.contains(sub.get_name()), "{shell}: {}", sub.get_name());
            }
        }
    }
}
