//! `conform serve` as a long-lived server facing careless or hostile clients: its memory
//! stays flat over a long session, a body over the limit gets 413 without being read, and
//! connections that stall are closed.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime};

use conform::sign::{self, Credentials};
use conform::target;

/// `conform serve` as a child process, stopped with SIGINT (or killed) when dropped.
struct Serve {
    child: Child,
    uri: String,
    out: BufReader<std::process::ChildStdout>,
}

impl Serve {
    fn start(root: &std::path::Path, flags: &[&str]) -> Serve {
        let mut child = Command::new(env!("CARGO_BIN_EXE_conform"))
            .arg("--root")
            .arg(root)
            .args(["serve", "--port", "0"])
            .args(flags)
            .stdout(Stdio::piped())
            // Every unmatched request is logged there; nobody reads it here.
            .stderr(Stdio::null())
            .spawn()
            .expect("conform serve starts");
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        out.read_line(&mut first).unwrap();
        let uri = first
            .split(" on ")
            .nth(1)
            .unwrap_or_else(|| panic!("no address in {first:?}"))
            .trim()
            .to_owned();
        Serve { child, uri, out }
    }

    fn addr(&self) -> String {
        self.uri.trim_start_matches("http://").to_owned()
    }

    /// Resident memory now, in bytes.
    fn rss(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS in /proc/PID/status");
        kb * 1024
    }

    /// SIGINT, then what it printed at shutdown.
    fn stop(mut self) -> String {
        // SAFETY: signalling the child this test started.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGINT) };
        let mut rest = String::new();
        self.out.read_to_string(&mut rest).unwrap();
        self.child.wait().unwrap();
        rest
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads until the server closes the connection; an error if it is still open after
/// `within` (the test's bound, far above the server's timeout).
fn until_closed(s: &mut TcpStream, within: Duration) -> Result<String, String> {
    s.set_read_timeout(Some(within)).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return Ok(String::from_utf8_lossy(&got).into_owned()),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                return Ok(String::from_utf8_lossy(&got).into_owned());
            }
            Err(e) => {
                return Err(format!(
                    "still open after {within:?} ({e}); received {:?}",
                    String::from_utf8_lossy(&got)
                ));
            }
        }
    }
}

const BOUND: Duration = Duration::from_secs(30);

#[test]
fn a_body_over_the_limit_gets_413_without_being_read() {
    let (_dir, root) = common::starter_copy();
    let server = Serve::start(&root, &["--max-body-bytes", "1000"]);
    // Declares 100 MB and sends 1 KB of it: the answer comes anyway, so the server did not
    // wait for (or read) the rest.
    let mut s = TcpStream::connect(server.addr()).unwrap();
    let head = format!(
        "POST / HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 104857600\r\n\r\n",
        server.addr()
    );
    // Head and the first kilobyte in one write: all of it is in before the server answers.
    s.write_all(format!("{head}{}", "a".repeat(1024)).as_bytes())
        .unwrap();
    let answer = until_closed(&mut s, BOUND).expect("answered and closed");
    assert!(answer.starts_with("HTTP/1.1 413 "), "{answer}");
    assert!(
        answer.contains("<Code>RequestEntityTooLarge</Code>")
            && answer.contains("is 104857600 bytes, over this server's limit of 1000 bytes")
            && answer.contains("--max-body-bytes"),
        "{answer}"
    );
    // Chunked, without a length: 2,000 bytes arrive and then nothing; the answer comes at
    // the limit, not at an end that never comes.
    let mut s = TcpStream::connect(server.addr()).unwrap();
    let head = format!(
        "POST / HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n",
        server.addr()
    );
    let chunks = format!("1f4\r\n{}\r\n", "b".repeat(500)).repeat(4);
    s.write_all(format!("{head}{chunks}").as_bytes()).unwrap();
    let answer = until_closed(&mut s, BOUND).expect("answered and closed");
    assert!(answer.starts_with("HTTP/1.1 413 "), "{answer}");
    assert!(
        answer.contains("is longer, over this server's limit of 1000 bytes"),
        "{answer}"
    );
    // A request within the limit is still answered as ever.
    let mut s = TcpStream::connect(server.addr()).unwrap();
    let body = "Action=GetCallerIdentity&Version=2011-06-15&Extra=1";
    write!(
        s,
        "POST / HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        server.addr(),
        body.len()
    )
    .unwrap();
    let answer = until_closed(&mut s, BOUND).unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 400 ") && answer.contains("ConformNoMatchingScenario"),
        "{answer}"
    );
    drop(server);
}

#[test]
fn connections_that_stall_are_closed() {
    let (_dir, root) = common::starter_copy();
    let server = Serve::start(&root, &["--idle-timeout", "1"]);
    let addr = server.addr();
    // Nothing sent at all.
    let mut silent = TcpStream::connect(&addr).unwrap();
    // Half a request head.
    let mut half = TcpStream::connect(&addr).unwrap();
    write!(half, "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Ty").unwrap();
    // A whole head, and 10 of the 100 bytes of body it announces.
    let mut short = TcpStream::connect(&addr).unwrap();
    write!(
        short,
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nAction=Get"
    )
    .unwrap();
    // A whole request, answered, and then the connection kept open and idle.
    let mut idle = TcpStream::connect(&addr).unwrap();
    let body = "Action=GetCallerIdentity&Version=2011-06-15&Extra=1";
    write!(
        idle,
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    for (name, s) in [("silent", &mut silent), ("half a head", &mut half)] {
        let got = until_closed(s, BOUND).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!got.contains(" 200 "), "{name}: {got}");
    }
    let got = until_closed(&mut short, BOUND).unwrap_or_else(|e| panic!("short body: {e}"));
    assert!(
        got.starts_with("HTTP/1.1 408 ") && got.contains("did not arrive within 1s"),
        "{got}"
    );
    let got = until_closed(&mut idle, BOUND).unwrap_or_else(|e| panic!("idle: {e}"));
    assert!(got.starts_with("HTTP/1.1 400 "), "answered first: {got}");
    // The server still serves.
    let mut s = TcpStream::connect(&addr).unwrap();
    write!(
        s,
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    assert!(
        until_closed(&mut s, BOUND)
            .unwrap()
            .starts_with("HTTP/1.1 400 ")
    );
}

fn creds() -> Credentials {
    Credentials {
        access_key_id: target::EXAMPLE_ACCESS_KEY_ID.into(),
        secret_access_key: target::EXAMPLE_SECRET_ACCESS_KEY.into(),
        session_token: None,
    }
}

fn form(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// Request `i` of a long session: every other one assumes a role of its own with a session
/// of its own (the server hands out and remembers keys), the others match no scenario (the
/// server counts and logs them).
async fn request(client: &reqwest::Client, uri: &str, i: usize) -> u16 {
    let (body, signed) = if i.is_multiple_of(2) {
        // A long path (the ARN may have 2,048 characters): what the server keeps per key
        // shows clearly if it keeps too many.
        let role = format!(
            "arn:aws:iam::123456789012:role/{}/memory-{i}",
            "p".repeat(1500)
        );
        let session = format!("s{i}");
        let body = form(&[
            ("Action", "AssumeRole"),
            ("Version", "2011-06-15"),
            ("RoleSessionName", &session),
            ("RoleArn", &role),
            ("DurationSeconds", "3600"),
        ]);
        (body, true)
    } else {
        let extra = i.to_string();
        let body = form(&[
            ("Action", "GetCallerIdentity"),
            ("Version", "2011-06-15"),
            ("Extra", &extra),
        ]);
        (body, false)
    };
    let mut req = conform::transport::HttpRequest {
        method: "POST".into(),
        url: format!("{uri}/"),
        headers: vec![
            ("host".into(), uri.trim_start_matches("http://").to_owned()),
            (
                "content-type".into(),
                "application/x-www-form-urlencoded".into(),
            ),
        ],
        body: body.into_bytes(),
    };
    if signed {
        let s = sign::sign_headers(&creds(), "us-east-1", "sts", &req, SystemTime::now()).unwrap();
        req.headers.extend(s);
    }
    let mut b = client.post(&req.url).body(req.body);
    for (k, v) in &req.headers {
        b = b.header(k, v);
    }
    let r = b.send().await.expect("answered");
    let status = r.status().as_u16();
    r.bytes().await.expect("a whole answer");
    status
}

/// Sends requests `from..to`, eight at a time over keep-alive connections.
async fn session(uri: &str, from: usize, to: usize) {
    let client = reqwest::Client::new();
    let mut set = tokio::task::JoinSet::new();
    for w in 0..8 {
        let (client, uri) = (client.clone(), uri.to_owned());
        set.spawn(async move {
            let mut i = from + w;
            while i < to {
                let status = request(&client, &uri, i).await;
                let want = if i.is_multiple_of(2) { 200 } else { 400 };
                assert_eq!(status, want, "request {i}");
                i += 8;
            }
        });
    }
    while let Some(r) = set.join_next().await {
        r.unwrap();
    }
}

#[test]
fn memory_stays_flat_over_a_long_session() {
    const WARM_UP: usize = 9_000;
    const TOTAL: usize = 24_000;
    let server = Serve::start(common::repo(), &[]);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // The warm-up hands out more keys than the server keeps (4,500 > 4,096), so from here
    // on every new key displaces an old one.
    rt.block_on(session(&server.uri, 0, WARM_UP));
    let warm = server.rss();
    rt.block_on(session(&server.uri, WARM_UP, TOTAL));
    let end = server.rss();
    eprintln!(
        "conform serve RSS: {:.1} MB after {WARM_UP} requests, {:.1} MB after {TOTAL}",
        warm as f64 / 1048576.0,
        end as f64 / 1048576.0
    );
    assert!(
        end <= warm + 20 * 1024 * 1024,
        "grew from {warm} to {end} bytes over {} requests",
        TOTAL - WARM_UP
    );
    let summary = server.stop();
    assert!(
        summary.contains(&format!("{} requests matched no scenario", TOTAL / 2)),
        "every unmatched request is counted, though not every message is kept: {summary}"
    );
}
