//! The systemd notify protocol (`READY=1`, `RELOADING=1`, `STOPPING=1`,
//! `WATCHDOG=1`) and the watchdog.

use std::sync::Arc;
use std::time::Duration;

use super::Daemon;
use crate::http::Heartbeats;

impl Daemon {
    /// Pings the systemd watchdog at half its period while the HTTP threads
    /// beat; stops pinging (so systemd restarts the service) when one has
    /// been stuck for longer than the period.
    pub async fn watchdog(self: Arc<Self>, period: Duration, beats: Arc<Heartbeats>) {
        let every = period / 2;
        loop {
            if beats.alive(period.max(Heartbeats::EVERY * 3)) {
                notify(&[sd_notify::NotifyState::Watchdog], false);
            } else {
                tracing::error!(
                    "an HTTP thread has not run for {} s; not telling the watchdog",
                    period.as_secs()
                );
            }
            tokio::time::sleep(every).await;
        }
    }
}

/// Sends `states` to systemd (nothing without `NOTIFY_SOCKET`). With
/// `monotonic`, adds `MONOTONIC_USEC` (required with `RELOADING=1`).
///
/// The send never blocks: a notify socket whose queue is full (the kernel
/// keeps 10 datagrams by default, and a reader may stall) drops the
/// message with a warning instead of stopping the main loop — signals,
/// reloads and the stop would otherwise wait on it.
pub fn notify(states: &[sd_notify::NotifyState<'_>], monotonic: bool) {
    use std::fmt::Write as _;
    let Some(socket) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let mut message = String::new();
    for state in states {
        let _ = writeln!(message, "{state}");
    }
    if monotonic {
        if let Ok(now) = sd_notify::NotifyState::monotonic_usec_now() {
            let _ = writeln!(message, "{now}");
        }
    }
    if let Err(e) = send_datagram(&socket, message.as_bytes()) {
        let what = message.lines().next().unwrap_or_default();
        tracing::warn!("cannot notify systemd ({what}): {e}");
    }
}

/// One datagram to `socket` (a path, or `@name` in the abstract namespace),
/// without blocking.
fn send_datagram(socket: &std::ffi::OsStr, message: &[u8]) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt as _;
    use std::os::unix::net::UnixDatagram;
    let sender = UnixDatagram::unbound()?;
    sender.set_nonblocking(true)?;
    let sent = match socket.as_bytes().strip_prefix(b"@") {
        #[cfg(target_os = "linux")]
        Some(name) => {
            use std::os::linux::net::SocketAddrExt as _;
            let address = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
            sender.send_to_addr(message, &address)?
        }
        #[cfg(not(target_os = "linux"))]
        Some(_) => {
            return Err(std::io::Error::other(
                "abstract sockets exist on Linux only",
            ))
        }
        None => sender.send_to(message, socket)?,
    };
    if sent == message.len() {
        Ok(())
    } else {
        Err(std::io::Error::new(
            std::io::ErrorKind::WriteZero,
            "the notification was cut short",
        ))
    }
}

/// The watchdog period systemd asks for (`WATCHDOG_USEC` for this process).
pub fn watchdog_period() -> Option<Duration> {
    sd_notify::watchdog_enabled()
}
