//! The replay server on the wire: a small hyper HTTP/1 server on 127.0.0.1 with a request
//! body limit (answered with 413 before the body is read), header and body timeouts, and a
//! cap on connections, so that a careless or hostile client costs it bounded memory and time.

use super::decode::Incoming;
use super::fresh::request_id;
use super::{REJECTED_CODE, Replay, Reply, TOO_LARGE_CODE, error_reply};

/// What the replay server accepts from a client, so that one sending too much or stalling
/// costs it a bounded amount of memory and time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// A longer request body gets 413, and no more of it is read. STS's largest request
    /// (AssumeRoleWithSAML: an assertion of up to 100,000 characters, form-encoded) stays far
    /// below the default of 1 MiB.
    pub max_body_bytes: u64,
    /// A connection is closed when a request's head does not arrive within this time
    /// (nothing sent, half a head, or idle between requests), and a request whose body does
    /// not arrive within it gets 408. The default, 30 s, is hyper's and longer than any pause
    /// of a working client.
    pub idle_timeout: std::time::Duration,
    /// Connections served at once; more wait in the listen backlog.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 1024 * 1024,
            idle_timeout: std::time::Duration::from_secs(30),
            max_connections: 4096,
        }
    }
}

/// A running replay server. Dropping it stops it: the listener and every connection.
pub struct Server {
    addr: std::net::SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn uri(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn address(&self) -> std::net::SocketAddr {
        self.addr
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // The connections are tasks of a JoinSet owned by this one: they end with it.
        self.task.abort();
    }
}

/// Serves a replay over HTTP/1.1 on 127.0.0.1 (`port` 0 picks a free one) with the default
/// limits, on the caller's tokio runtime.
pub async fn serve(replay: std::sync::Arc<Replay>, port: u16) -> std::io::Result<Server> {
    serve_with(replay, port, Limits::default()).await
}

/// Serves a replay with the given limits.
pub async fn serve_with(
    replay: std::sync::Arc<Replay>,
    port: u16,
    limits: Limits,
) -> std::io::Result<Server> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    let slots = connection_slots(limits);
    let task = tokio::spawn(accept_loop(listener, replay, limits, slots));
    Ok(Server { addr, task })
}

/// A replay server on threads of its own, each with a single-threaded runtime and its own
/// listener on the same port (`SO_REUSEPORT`): the kernel spreads connections over the
/// threads, and a request is served where it arrived, without waking another thread.
/// Dropping it stops every thread, listener and connection.
pub struct Threaded {
    addr: std::net::SocketAddr,
    // Dropped to stop: each thread waits for its sender to go.
    stop: Option<tokio::sync::watch::Sender<()>>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Threaded {
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn uri(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn address(&self) -> std::net::SocketAddr {
        self.addr
    }
}

impl Drop for Threaded {
    fn drop(&mut self) {
        drop(self.stop.take());
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// Serves a replay on `threads` threads (at least one), sharing `limits.max_connections`.
pub fn serve_threaded(
    replay: std::sync::Arc<Replay>,
    port: u16,
    limits: Limits,
    threads: usize,
) -> std::io::Result<Threaded> {
    // Every socket is bound before any thread starts, so a port taken by someone else fails
    // here, and port 0's choice is known to the sockets after the first.
    let mut sockets = Vec::new();
    // A plain bind first: SO_REUSEPORT alone would let a second `conform serve` on the same
    // port share it silently, each answering some of the connections. Without the option,
    // any server already there (this one's threads included) refuses it.
    let mut addr = {
        let probe = std::net::TcpListener::bind(("127.0.0.1", port))?;
        probe.local_addr()?
    };
    for _ in 0..threads.max(1) {
        let socket = tokio::net::TcpSocket::new_v4()?;
        // As tokio's own `TcpListener::bind`: a restarted server may take its port back while
        // old connections linger.
        socket.set_reuseaddr(true)?;
        socket.set_reuseport(true)?;
        socket.bind(addr)?;
        addr = socket.local_addr()?;
        sockets.push(socket);
    }
    let (stop, stopped) = tokio::sync::watch::channel(());
    let slots = connection_slots(limits);
    let mut handles = Vec::new();
    for (i, socket) in sockets.into_iter().enumerate() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let replay = std::sync::Arc::clone(&replay);
        let slots = std::sync::Arc::clone(&slots);
        let mut stopped = stopped.clone();
        let (ready, listening) = std::sync::mpsc::channel();
        let handle = std::thread::Builder::new()
            .name(format!("conform-serve-{i}"))
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = match socket.listen(LISTEN_BACKLOG) {
                        Ok(l) => l,
                        Err(e) => {
                            let _ = ready.send(Err(e));
                            return;
                        }
                    };
                    let _ = ready.send(Ok(()));
                    tokio::select! {
                        () = accept_loop(listener, replay, limits, slots) => {}
                        // The sender is gone: the server was dropped.
                        _ = stopped.changed() => {}
                    }
                });
            })?;
        handles.push(handle);
        let listened = listening.recv().unwrap_or_else(|_| {
            Err(std::io::Error::other(
                "a replay server thread ended before it listened",
            ))
        });
        if let Err(e) = listened {
            // The threads already started stop with `stop`.
            drop(stop);
            for h in handles {
                let _ = h.join();
            }
            return Err(e);
        }
    }
    Ok(Threaded {
        addr,
        stop: Some(stop),
        threads: handles,
    })
}

/// tokio's `TcpListener::bind` backlog, so both servers queue alike.
const LISTEN_BACKLOG: u32 = 1024;

fn connection_slots(limits: Limits) -> std::sync::Arc<tokio::sync::Semaphore> {
    std::sync::Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)))
}

async fn accept_loop(
    listener: tokio::net::TcpListener,
    replay: std::sync::Arc<Replay>,
    limits: Limits,
    slots: std::sync::Arc<tokio::sync::Semaphore>,
) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(limits.idle_timeout)
        .keep_alive(true);
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let Ok(slot) = std::sync::Arc::clone(&slots).acquire_owned().await else {
            return;
        };
        let accepted = loop {
            // Finished connections are reaped as they end, so the set holds only live ones.
            tokio::select! {
                a = listener.accept() => break a,
                Some(_) = connections.join_next() => {}
            }
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(_) => {
                // Out of descriptors, or a connection reset before it was accepted: wait a
                // little rather than spin, then go on serving.
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let replay = std::sync::Arc::clone(&replay);
        let conn = http.serve_connection(
            hyper_util::rt::TokioIo::new(stream),
            hyper::service::service_fn(move |req| {
                let replay = std::sync::Arc::clone(&replay);
                async move { Ok::<_, std::convert::Infallible>(handle(&replay, limits, req).await) }
            }),
        );
        connections.spawn(async move {
            // A connection that breaks or times out ends here; the client sees it closed.
            let _ = conn.await;
            drop(slot);
        });
    }
}

type Body = http_body_util::Full<hyper::body::Bytes>;

/// Answers 200 once the server listens (`conform serve` as a recipe's emulator).
pub const HEALTH_PATH: &str = "/_conform/health";

async fn handle(
    replay: &Replay,
    limits: Limits,
    req: hyper::Request<hyper::body::Incoming>,
) -> hyper::Response<Body> {
    use http_body_util::BodyExt;
    let (parts, body) = req.into_parts();
    // No AWS request is a bodiless GET of this path: it says the server is up, for whoever
    // starts it as an emulator (a start recipe's `ready`).
    if parts.method == hyper::Method::GET && parts.uri.path() == HEALTH_PATH {
        return hyper::Response::new(Body::from("ok\n"));
    }
    let limit = limits.max_body_bytes;
    // Nothing of the request is known yet: errors speak for the suite's main service.
    let namespace = replay.namespace(replay.main_service());
    let too_large = |seen: &str| {
        closing(error_reply(
            413,
            TOO_LARGE_CODE,
            &format!(
                "The request body {seen}, over this server's limit of {limit} bytes (conform serve --max-body-bytes raises it)."
            ),
            namespace,
        ))
    };
    let declared = parts
        .headers
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    // Refused on its declared length: none of the body is read.
    if let Some(n) = declared
        && n > limit
    {
        return too_large(&format!("is {n} bytes"));
    }
    let limited = http_body_util::Limited::new(body, usize::try_from(limit).unwrap_or(usize::MAX));
    let bytes = match tokio::time::timeout(limits.idle_timeout, limited.collect()).await {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
            return too_large("is longer");
        }
        // The client broke the body off: nobody reads this answer, the connection is gone.
        Ok(Err(_)) => {
            return closing(error_reply(
                400,
                REJECTED_CODE,
                "The request body broke off.",
                namespace,
            ));
        }
        Err(_) => {
            return closing(error_reply(
                408,
                "RequestTimeout",
                &format!(
                    "The request body did not arrive within {:?} (conform serve --idle-timeout).",
                    limits.idle_timeout
                ),
                namespace,
            ));
        }
    };
    let incoming = Incoming {
        method: parts.method.to_string(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| {
                // hyper's names are lower case already; values are nearly always ASCII.
                let v = v.to_str().map_or_else(
                    |_| String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    str::to_owned,
                );
                (k.as_str().to_owned(), v)
            })
            .collect(),
        body: bytes.to_vec(),
    };
    response(replay.answer(&incoming))
}

fn response(reply: Reply) -> hyper::Response<Body> {
    let mut b = hyper::Response::builder()
        .status(reply.status)
        // A name known in advance: not parsed and lower-cased again for every answer (HTTP/1
        // sends names in lower case either way).
        .header(
            hyper::header::HeaderName::from_static("x-amzn-requestid"),
            request_id("header"),
        );
    if let Some(ct) = &reply.content_type {
        b = b.header(hyper::header::CONTENT_TYPE, ct);
    }
    b.body(Body::new(reply.body.into())).unwrap_or_else(|_| {
        let mut r =
            hyper::Response::new(Body::new("the stored answer has no valid HTTP head".into()));
        *r.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
        r
    })
}

/// An answer after which the connection closes: the rest of the request is not read.
fn closing(reply: Reply) -> hyper::Response<Body> {
    let mut r = response(reply);
    r.headers_mut().insert(
        hyper::header::CONNECTION,
        hyper::header::HeaderValue::from_static("close"),
    );
    r
}
