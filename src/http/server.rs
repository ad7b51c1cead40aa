//! The HTTP server loop: one single-threaded runtime per core on
//! `SO_REUSEPORT` sockets, hyper's HTTP/1.1 with bounded waits on slow
//! clients, a cap on open connections, and a graceful stop.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Semaphore;

use crate::load::config::ServerConfig;

use super::{router, App};

/// How long a stopping server waits for in-flight requests (the process
/// stops within 10 s of the signal).
pub const DRAIN: Duration = Duration::from_secs(9);

/// What one client may cost the server.
#[derive(Clone, Debug)]
pub struct Limits {
    /// The whole request head must arrive within this time of connecting or
    /// of the previous response; else the connection is closed. This bounds
    /// slowloris clients and idle keep-alive connections alike.
    pub header_timeout: Duration,
    /// A write that stays blocked this long (a client that does not read
    /// its response) closes the connection.
    pub write_timeout: Duration,
    /// Open connections, shared by every server thread. When all are taken,
    /// new connections wait in the kernel's accept queue.
    pub connections: Arc<Semaphore>,
    /// Open connections one client address may hold; one more is closed
    /// at once, so that one client cannot take the whole of `connections`.
    pub per_client: usize,
    /// Open connections per client address, shared by every server thread.
    clients: Clients,
    /// Addresses `per_client` does not apply to (reverse proxies, which
    /// carry many clients' connections).
    exempt: Arc<Vec<std::net::IpAddr>>,
}

impl Limits {
    pub fn new(config: &ServerConfig) -> Limits {
        Limits {
            header_timeout: Duration::from_secs(config.header_timeout_seconds),
            write_timeout: Duration::from_secs(config.write_timeout_seconds),
            connections: Arc::new(Semaphore::new(config.max_connections)),
            per_client: config.max_connections_per_client,
            clients: Arc::default(),
            exempt: Arc::default(),
        }
    }

    /// These limits, with `per_client` not applied to `proxies`.
    pub fn exempting(mut self, proxies: &[std::net::IpAddr]) -> Limits {
        self.exempt = Arc::new(proxies.to_vec());
        self
    }

    /// Counts a connection of `peer`, unless it holds `per_client` already
    /// (then `None`: close it). The count goes down when the guard drops.
    fn admit(&self, peer: std::net::IpAddr) -> Option<ClientSlot> {
        let peer = peer.to_canonical();
        if self.exempt.contains(&peer) {
            return Some(ClientSlot(None));
        }
        let mut clients = match self.clients.lock() {
            Ok(c) => c,
            Err(poisoned) => poisoned.into_inner(),
        };
        let n = clients.entry(peer).or_default();
        if *n >= self.per_client {
            return None;
        }
        *n += 1;
        Some(ClientSlot(Some((self.clients.clone(), peer))))
    }
}

/// Open connections per client address.
type Clients = Arc<std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, usize>>>;

/// One counted connection of a client; uncounted when dropped.
struct ClientSlot(Option<(Clients, std::net::IpAddr)>);

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let Some((clients, peer)) = self.0.take() else {
            return;
        };
        let mut clients = match clients.lock() {
            Ok(c) => c,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(n) = clients.get_mut(&peer) {
            *n -= 1;
            if *n == 0 {
                clients.remove(&peer);
            }
        }
    }
}

impl Default for Limits {
    fn default() -> Limits {
        Limits::new(&crate::load::config::Config::defaults(Default::default()).server)
    }
}

/// Serves until `shutdown` completes, then lets in-flight requests finish
/// (at most [`DRAIN`]).
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Arc<App>,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let service = Counted {
        router: router(app.clone()),
        counts: app.metrics.request_counts(),
        peer: None,
    };
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(64 * 1024)
        .max_header_size(64 * 1024)
        .keep_alive(true);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = limits.connections.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait, don't spin.
                    tracing::warn!("cannot accept a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(slot) = limits.admit(peer.ip()) else {
            // Over its share: closed at once, its permit free again.
            app.metrics.connection_refused();
            continue;
        };
        // Small responses (304s) go out at once instead of waiting for an ACK.
        let _ = stream.set_nodelay(true);
        let io = hyper_util::rt::TokioIo::new(WriteTimeout::new(stream, limits.write_timeout));
        let service = Counted {
            peer: Some(Peer(peer.ip())),
            ..service.clone()
        };
        let conn = graceful.watch(http.serve_connection(io, service));
        let metrics = app.metrics.clone();
        tokio::spawn(async move {
            metrics.connection_opened();
            if let Err(e) = conn.await {
                metrics.connection_failed(&e);
            }
            metrics.connection_closed();
            drop(slot);
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            "requests still in flight after {} s; closing them",
            DRAIN.as_secs()
        );
    }
    Ok(())
}

/// Binds `count` listening sockets to one address with `SO_REUSEPORT`, so
/// that the kernel spreads connections evenly over them (one per server
/// thread). With port 0, the first socket picks the port and the others
/// join it. A port another process listens on is refused ("address in
/// use"), even when that process is another `mechcal serve`: without the
/// check below, `SO_REUSEPORT` would let a second instance join the first
/// one's port and take half its connections.
pub fn bind_reuseport(
    addr: std::net::SocketAddr,
    count: usize,
) -> std::io::Result<Vec<std::net::TcpListener>> {
    use socket2::{Domain, Protocol, Socket, Type};
    if addr.port() != 0 {
        // A socket without SO_REUSEPORT cannot bind a port that listening
        // sockets hold, whatever their options.
        let probe = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
        probe.set_reuse_address(true)?;
        probe.bind(&addr.into())?;
    }
    let mut target = addr;
    let mut sockets = Vec::with_capacity(count.max(1));
    for _ in 0..count.max(1) {
        let socket = Socket::new(
            Domain::for_address(target),
            Type::STREAM,
            Some(Protocol::TCP),
        )?;
        socket.set_reuse_address(true)?;
        #[cfg(unix)]
        socket.set_reuse_port(true)?;
        socket.set_tcp_nodelay(true)?;
        socket.bind(&target.into())?;
        socket.listen(1024)?;
        socket.set_nonblocking(true)?;
        let listener: std::net::TcpListener = socket.into();
        target = listener.local_addr()?;
        sockets.push(listener);
    }
    Ok(sockets)
}

/// Serves with one OS thread per listener, each running its own
/// single-threaded runtime — the shape nginx has (one event loop per core,
/// no cross-thread wake-ups), which measured faster here than one
/// multi-threaded runtime. Returns when `shutdown` completes and every
/// thread has let its in-flight requests finish.
pub async fn serve_threads(
    listeners: Vec<std::net::TcpListener>,
    app: Arc<App>,
    limits: Limits,
    beats: Arc<Heartbeats>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut handles = Vec::with_capacity(listeners.len());
    for (i, socket) in listeners.into_iter().enumerate() {
        let app = app.clone();
        let limits = limits.clone();
        let beats = beats.clone();
        let mut stopped = stopped.clone();
        let handle = std::thread::Builder::new()
            .name(format!("http-{i}"))
            .spawn(move || -> std::io::Result<()> {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                runtime.block_on(async move {
                    // Shows the watchdog that this thread's event loop runs.
                    tokio::spawn(async move {
                        loop {
                            beats.beat(i);
                            tokio::time::sleep(Heartbeats::EVERY).await;
                        }
                    });
                    socket.set_nonblocking(true)?;
                    let listener = tokio::net::TcpListener::from_std(socket)?;
                    serve(listener, app, limits, async move {
                        let _ = stopped.wait_for(|s| *s).await;
                    })
                    .await
                })
            })?;
        handles.push(handle);
    }
    shutdown.await;
    let _ = stop.send(true);
    // Joined on a blocking thread: the caller's runtime has other work to
    // finish meanwhile (a reminder pass).
    tokio::task::spawn_blocking(move || {
        let mut result = Ok(());
        for h in handles {
            match h.join() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => result = Err(e),
                Err(_) => result = Err(std::io::Error::other("a server thread panicked")),
            }
        }
        result
    })
    .await
    .unwrap_or_else(|e| Err(std::io::Error::other(e)))
}

/// When each server thread's event loop last ran, for the systemd watchdog:
/// a thread stuck in a loop or a deadlock stops beating.
pub struct Heartbeats {
    start: std::time::Instant,
    /// Milliseconds since `start`, one per thread.
    beats: Vec<std::sync::atomic::AtomicU64>,
}

impl Heartbeats {
    pub const EVERY: Duration = Duration::from_secs(1);

    pub fn new(threads: usize) -> Arc<Heartbeats> {
        Arc::new(Heartbeats {
            start: std::time::Instant::now(),
            beats: (0..threads).map(|_| Default::default()).collect(),
        })
    }

    fn beat(&self, thread: usize) {
        let ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.beats[thread].store(ms, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether every thread has beaten within `within`.
    pub fn alive(&self, within: Duration) -> bool {
        let now = self.start.elapsed().as_millis();
        self.beats.iter().all(|b| {
            now.saturating_sub(u128::from(b.load(std::sync::atomic::Ordering::Relaxed)))
                <= within.as_millis()
        })
    }
}

/// The router as a hyper service that counts every response by route and
/// class, for `/metrics`. (An axum middleware did the same at 15% of the
/// 304 throughput: it boxes every request's future.)
#[derive(Clone)]
struct Counted {
    router: axum::Router,
    /// This thread's own counters.
    counts: Arc<crate::metrics::RequestCounts>,
    /// The connection's client, told to `/healthz` (whose details only
    /// some clients may see).
    peer: Option<Peer>,
}

/// The address of the client at the other end of the connection.
#[derive(Clone, Copy, Debug)]
pub struct Peer(pub std::net::IpAddr);

impl hyper::service::Service<hyper::Request<hyper::body::Incoming>> for Counted {
    type Response = axum::response::Response;
    type Error = std::convert::Infallible;
    type Future = CountedFuture;

    fn call(&self, mut request: hyper::Request<hyper::body::Incoming>) -> CountedFuture {
        let route = crate::metrics::Route::of(request.uri().path());
        // The routes that look at their client: /healthz and /metrics
        // (for some clients only) and sign-up (rate-limited per client).
        if let (
            crate::metrics::Route::Health
            | crate::metrics::Route::Metrics
            | crate::metrics::Route::Subscribe,
            Some(peer),
        ) = (route, self.peer)
        {
            request.extensions_mut().insert(peer);
        }
        let mut router = self.router.clone();
        CountedFuture {
            inner: tower_service::Service::call(&mut router, request),
            route,
            counts: self.counts.clone(),
        }
    }
}

struct CountedFuture {
    inner: axum::routing::future::RouteFuture<std::convert::Infallible>,
    route: crate::metrics::Route,
    counts: Arc<crate::metrics::RequestCounts>,
}

impl Future for CountedFuture {
    type Output = Result<axum::response::Response, std::convert::Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let polled = Pin::new(&mut self.inner).poll(cx);
        if let Poll::Ready(Ok(response)) = &polled {
            self.counts.add(self.route, response.status().as_u16());
        }
        polled
    }
}

/// A stream whose writes fail with `TimedOut` once one has been blocked for
/// longer than `timeout`.
struct WriteTimeout<S> {
    inner: S,
    timeout: Duration,
    blocked: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<S> WriteTimeout<S> {
    fn new(inner: S, timeout: Duration) -> WriteTimeout<S> {
        WriteTimeout {
            inner,
            timeout,
            blocked: None,
        }
    }

    /// After the inner stream said `Pending`: starts the clock, or fails
    /// when it has run out.
    fn check<T>(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<T>> {
        let timeout = self.timeout;
        let sleep = self
            .blocked
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the client did not read its response",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for WriteTimeout<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for WriteTimeout<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match Pin::new(&mut self.inner).poll_write(cx, buf) {
            Poll::Pending => self.check(cx),
            ready => {
                self.blocked = None;
                ready
            }
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        match Pin::new(&mut self.inner).poll_write_vectored(cx, bufs) {
            Poll::Pending => self.check(cx),
            ready => {
                self.blocked = None;
                ready
            }
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match Pin::new(&mut self.inner).poll_flush(cx) {
            Poll::Pending => self.check(cx),
            ready => {
                self.blocked = None;
                ready
            }
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test(flavor = "current_thread")]
    async fn a_write_blocked_too_long_fails_and_reading_in_time_succeeds() {
        // A client that reads nothing: the 64-byte pipe fills, the write
        // blocks, and fails once blocked for longer than the timeout.
        let (server, _client) = tokio::io::duplex(64);
        let mut io = WriteTimeout::new(server, Duration::from_millis(100));
        let started = std::time::Instant::now();
        let e = io.write_all(&[b'x'; 1024]).await.unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::TimedOut);
        assert!(started.elapsed() >= Duration::from_millis(100));

        // A client that reads, slowly but within the timeout each time:
        // every write goes through.
        let (server, mut client) = tokio::io::duplex(64);
        let mut io = WriteTimeout::new(server, Duration::from_millis(300));
        let reader = tokio::spawn(async move {
            let mut got = Vec::new();
            let mut buf = [0u8; 32];
            loop {
                tokio::time::sleep(Duration::from_millis(20)).await;
                match client.read(&mut buf).await.unwrap() {
                    0 => return got,
                    n => got.extend_from_slice(&buf[..n]),
                }
            }
        });
        io.write_all(&[b'y'; 1024]).await.unwrap();
        io.shutdown().await.unwrap();
        drop(io);
        assert_eq!(reader.await.unwrap(), vec![b'y'; 1024]);
    }
}
