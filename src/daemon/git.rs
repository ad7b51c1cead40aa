//! Following a branch of the data repository (`[data.git]`): `git fetch`,
//! then a fast-forward of the server's checkout, run as subprocesses.
//!
//! The checkout is only ever fast-forwarded: a checkout with local commits
//! or edits that a fast-forward would overwrite is left alone, and the
//! error says how to repair it. The caller holds the tree lock across
//! [`Checkout::fast_forward`] and the reload that follows, so a reload never
//! reads a half-updated tree.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use crate::load::config::GitConfig;

/// One git command may take this long (a fetch over a slow link included).
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);

pub struct Checkout {
    /// The top of the work tree that holds the deadline directory.
    top: PathBuf,
    remote: String,
    branch: String,
}

impl Checkout {
    /// The checkout that holds `dir`.
    pub async fn find(dir: &Path, config: &GitConfig) -> Result<Checkout, String> {
        let top = git(dir, &["rev-parse", "--show-toplevel"]).await?;
        Ok(Checkout {
            top: PathBuf::from(top),
            remote: config.remote.clone(),
            branch: config.branch.clone(),
        })
    }

    pub fn top(&self) -> &Path {
        &self.top
    }

    /// Fetches the branch; returns the commit it points to. Touches no
    /// file of the work tree.
    pub async fn fetch(&self) -> Result<String, String> {
        let refspec = format!("refs/heads/{}", self.branch);
        git(
            &self.top,
            &[
                "fetch",
                "--quiet",
                "--no-tags",
                "--",
                &self.remote,
                &refspec,
            ],
        )
        .await?;
        git(&self.top, &["rev-parse", "--verify", "FETCH_HEAD^{commit}"]).await
    }

    /// Moves the checkout to `commit` if that is a fast-forward. Returns
    /// whether anything changed.
    pub async fn fast_forward(&self, commit: &str) -> Result<bool, String> {
        let head = git(&self.top, &["rev-parse", "--verify", "HEAD^{commit}"]).await?;
        if head == commit {
            return Ok(false);
        }
        if git(&self.top, &["merge-base", "--is-ancestor", &head, commit])
            .await
            .is_err()
        {
            return Err(format!(
                "cannot fast-forward {} to {}/{}: the checkout has commits that are not on it \
                 (history rewritten, or commits made on the server); to follow the remote, run \
                 `git -C {} reset --hard {commit}`",
                self.top.display(),
                self.remote,
                self.branch,
                self.top.display()
            ));
        }
        git(&self.top, &["merge", "--ff-only", "--quiet", commit])
            .await
            .map_err(|e| {
                format!(
                    "cannot fast-forward {} to {}/{}: {e}; the checkout must hold no edits of its own",
                    self.top.display(),
                    self.remote,
                    self.branch
                )
            })?;
        Ok(true)
    }
}

/// Runs `git -C dir args…`; its trimmed stdout, or what went wrong.
async fn git(dir: &Path, args: &[&str]) -> Result<String, String> {
    let mut command = tokio::process::Command::new("git");
    command
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let what = format!("git {}", args.first().copied().unwrap_or_default());
    let output = match tokio::time::timeout(COMMAND_TIMEOUT, command.output()).await {
        Err(_) => {
            return Err(format!(
                "`{what}` took longer than {} s and was stopped",
                COMMAND_TIMEOUT.as_secs()
            ))
        }
        Ok(Err(e)) => return Err(format!("cannot run `{what}`: {e}")),
        Ok(Ok(o)) => o,
    };
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
    } else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let reason = stderr
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("; ");
        Err(if reason.is_empty() {
            format!("`{what}` failed ({})", output.status)
        } else {
            format!("`{what}` failed: {reason}")
        })
    }
}
