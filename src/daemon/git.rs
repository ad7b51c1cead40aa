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

use std::sync::Arc;

use tokio::sync::watch;

use super::reload;
use crate::http::Degraded;
use crate::load::config::GitConfig;

/// Why following the remote failed this time (shown on `/healthz` and
/// alerted; the next interval tries again).
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("`{command}` took longer than {} s and was stopped", COMMAND_TIMEOUT.as_secs())]
    Timeout { command: String },
    #[error("cannot run `{command}`: {source}")]
    Spawn {
        command: String,
        source: std::io::Error,
    },
    /// git said why (its stderr lines, joined), or only its exit status.
    #[error("`{command}` failed{}", if .reason.is_empty() { format!(" ({})", .status) } else { format!(": {}", .reason) })]
    Failed {
        command: String,
        status: std::process::ExitStatus,
        reason: String,
    },
    #[error("cannot fast-forward {} to {remote}/{branch}: the checkout has commits that are not on it \
             (history rewritten, or commits made on the server); to follow the remote, run \
             `git -C {} reset --hard {commit}`", .top.display(), .top.display())]
    Diverged {
        top: PathBuf,
        remote: String,
        branch: String,
        commit: String,
    },
    #[error("cannot fast-forward {} to {remote}/{branch}: {source}; the checkout must hold no edits of its own", .top.display())]
    Merge {
        top: PathBuf,
        remote: String,
        branch: String,
        source: Box<GitError>,
    },
}

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
    pub async fn find(dir: &Path, config: &GitConfig) -> Result<Checkout, GitError> {
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
    pub async fn fetch(&self) -> Result<String, GitError> {
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
    pub async fn fast_forward(&self, commit: &str) -> Result<bool, GitError> {
        let head = git(&self.top, &["rev-parse", "--verify", "HEAD^{commit}"]).await?;
        if head == commit {
            return Ok(false);
        }
        if git(&self.top, &["merge-base", "--is-ancestor", &head, commit])
            .await
            .is_err()
        {
            return Err(GitError::Diverged {
                top: self.top.clone(),
                remote: self.remote.clone(),
                branch: self.branch.clone(),
                commit: commit.to_string(),
            });
        }
        git(&self.top, &["merge", "--ff-only", "--quiet", commit])
            .await
            .map_err(|e| GitError::Merge {
                top: self.top.clone(),
                remote: self.remote.clone(),
                branch: self.branch.clone(),
                source: Box::new(e),
            })?;
        Ok(true)
    }
}

/// Runs `git -C dir args…`; its trimmed stdout, or what went wrong.
async fn git(dir: &Path, args: &[&str]) -> Result<String, GitError> {
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
        Err(_) => return Err(GitError::Timeout { command: what }),
        Ok(Err(source)) => {
            return Err(GitError::Spawn {
                command: what,
                source,
            })
        }
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
        Err(GitError::Failed {
            command: what,
            status: output.status,
            reason,
        })
    }
}

impl super::Daemon {
    /// Follows `[data.git]` until `stopped`: fetch, then fast-forward and
    /// reload under the tree lock. Failures are logged (once per distinct
    /// error), counted, shown on `/healthz`, and tried again next interval.
    pub async fn follow_git(self: Arc<Self>, mut stopped: watch::Receiver<bool>) {
        let mut first = true;
        loop {
            let config = self.config();
            let wait = match &config.data.git {
                Some(g) if !first => Duration::from_secs(g.interval_seconds),
                Some(_) => Duration::ZERO,
                // Off: look again later (a reload may turn it on).
                None => Duration::from_secs(60),
            };
            first = false;
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = self.fetch_now.notified() => {}
                _ = stopped.wait_for(|s| *s) => return,
            }
            let config = self.config();
            let Some(git_config) = &config.data.git else {
                continue;
            };
            let result = async {
                let checkout = Checkout::find(&config.data.deadlines, git_config).await?;
                let commit = checkout.fetch().await?;
                let _tree = self.tree.lock().await;
                let moved = checkout.fast_forward(&commit).await?;
                if moved {
                    tracing::info!(commit = %commit, checkout = %checkout.top().display(), "fast-forwarded the data checkout");
                    let (app, now) = (self.app.clone(), (self.clock)());
                    let _ = tokio::task::spawn_blocking(move || reload::reload(&app, now)).await;
                }
                Ok::<_, GitError>(())
            }
            .await;
            self.app.metrics.git_fetch(result.is_ok());
            let now = (self.clock)();
            match result {
                Ok(()) => self.app.update_health(|h| {
                    if h.git.take().is_some() {
                        tracing::info!("git: following the remote again");
                    }
                }),
                Err(e) => {
                    let e = e.to_string();
                    let repeated = self
                        .app
                        .health()
                        .git
                        .is_some_and(|d| d.diagnostics == [e.clone()]);
                    if repeated {
                        tracing::warn!("git: still failing; will try again");
                    } else {
                        tracing::error!("git: {e}; serving the data as it is, will try again");
                    }
                    self.app
                        .update_health(|h| Degraded::update(&mut h.git, vec![e], now));
                }
            }
            self.health_changed.notify_one();
        }
    }
}
