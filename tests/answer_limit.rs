//! An endpoint that answers far too much: the real binary reads at most the answer limit,
//! fails each such case with a message that names the limit and how to raise it, still
//! finishes with its summary and reports, and keeps its memory small while doing it.

mod common;

use std::convert::Infallible;
use std::path::Path;
use std::pin::Pin;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body, Frame};

const MB: u64 = 1024 * 1024;

/// 64 KiB of one byte, handed out again and again: the answer is streamed, never built.
static CHUNK: [u8; 64 * 1024] = [b'x'; 64 * 1024];

/// A body of `left` bytes made on demand; what it handed to the connection is counted.
struct Endless {
    left: u64,
    sent: Arc<AtomicU64>,
    declared: bool,
}

impl Body for Endless {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.left == 0 {
            return Poll::Ready(None);
        }
        let n = self.left.min(CHUNK.len() as u64);
        self.left -= n;
        self.sent.fetch_add(n, Ordering::Relaxed);
        Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(
            &CHUNK[..n as usize],
        )))))
    }

    fn is_end_stream(&self) -> bool {
        self.left == 0
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        if self.declared {
            hyper::body::SizeHint::with_exact(self.left)
        } else {
            hyper::body::SizeHint::default()
        }
    }
}

/// A loopback server answering every request with `size` bytes, with a Content-Length when
/// `declared`, else chunked. Returns its URL and how many body bytes it handed out.
async fn huge_answers(size: u64, declared: bool) -> (String, Arc<AtomicU64>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let sent = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&sent);
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let counter = Arc::clone(&counter);
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |_req| {
                    let body = Endless {
                        left: size,
                        sent: Arc::clone(&counter),
                        declared,
                    };
                    async move {
                        Ok::<_, Infallible>(
                            hyper::Response::builder()
                                .header("content-type", "text/xml")
                                .body(body)
                                .unwrap(),
                        )
                    }
                });
                // The client hangs up mid-answer: that ends the connection, as it should.
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (format!("http://{addr}"), sent)
}

/// A project of `n` GetCallerIdentity cases (no snapshots: the answer decides the outcome).
fn project(n: usize, targets: Option<&str>) -> (tempfile::TempDir, std::path::PathBuf) {
    let mut yaml = String::from("cases:\n");
    for i in 0..n {
        yaml.push_str(&format!(
            "  - id: caller_{i:02}\n    kind: doc-example\n    provenance: documented\n    description: who the caller is\n    source: a test\n    steps:\n      - operation: GetCallerIdentity\n"
        ));
    }
    let mut files = vec![("scenarios/sts/GetCallerIdentity/many.yaml", yaml.as_str())];
    if let Some(t) = targets {
        files.push(("conform.toml", t));
    }
    let (dir, root) = common::project(&files);
    (dir, root)
}

struct Finished {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    /// Peak resident memory of the binary, from wait4's rusage.
    max_rss_bytes: u64,
}

/// Runs the real binary to its end (output to files, so no pipe can stall it) and reads
/// its peak memory from the kernel when reaping it.
fn conform(root: &Path, args: &[&str]) -> Finished {
    let out = root.join("stdout.txt");
    let err = root.join("stderr.txt");
    let child = Command::new(env!("CARGO_BIN_EXE_conform"))
        .arg("--root")
        .arg(root)
        .args(args)
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env("CI", "")
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .expect("conform starts");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value to be overwritten by wait4.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: reaping our own child, with pointers to live locals.
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(reaped, pid, "wait4: {}", std::io::Error::last_os_error());
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    // The child is reaped; std must not wait for it again.
    std::mem::forget(child);
    Finished {
        code,
        stdout: std::fs::read_to_string(out).unwrap(),
        stderr: std::fs::read_to_string(err).unwrap(),
        // Linux reports kilobytes.
        max_rss_bytes: usage.ru_maxrss as u64 * 1024,
    }
}

async fn run(root: &Path, args: Vec<String>) -> Finished {
    let root = root.to_owned();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        conform(&root, &args)
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_100_mb_answer_fails_its_case_and_the_run_still_reports() {
    for declared in [false, true] {
        let (uri, sent) = huge_answers(100 * MB, declared).await;
        let (_dir, root) = project(1, None);
        let json = root.join("report.json");
        let f = run(
            &root,
            vec![
                "run".into(),
                "--endpoint".into(),
                uri,
                "--no-new".into(),
                "--report-json".into(),
                json.display().to_string(),
            ],
        )
        .await;
        let all = format!("{}\n{}", f.stdout, f.stderr);
        assert_eq!(f.code, Some(1), "declared={declared}\n{all}");
        assert!(
            f.stdout
                .contains("the answer is larger than the limit of 4194304 bytes")
                && f.stdout.contains("raise it with --max-answer-bytes"),
            "declared={declared}\n{all}"
        );
        let why = if declared {
            "its Content-Length is 104857600"
        } else {
            "more than 4194304 bytes arrived"
        };
        assert!(f.stdout.contains(why), "declared={declared}\n{all}");
        // The summary, and the report of what ran.
        assert!(
            f.stdout.contains("1 cases against") && f.stdout.contains("1 error"),
            "declared={declared}\n{all}"
        );
        let report = std::fs::read_to_string(&json).expect("the JSON report is written");
        assert!(
            report.contains("caller_00") && report.contains("larger than the limit"),
            "{report}"
        );
        // The endpoint could not hand out the whole answer: the client stopped reading.
        assert!(
            sent.load(Ordering::Relaxed) < 100 * MB,
            "declared={declared}: {} bytes sent",
            sent.load(Ordering::Relaxed)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifteen_parallel_100_mb_answers_keep_the_binary_under_100_mb() {
    let (uri, _sent) = huge_answers(100 * MB, false).await;
    let (_dir, root) = project(15, None);
    // Default jobs: as a user runs it.
    let f = run(
        &root,
        vec!["run".into(), "--endpoint".into(), uri, "--no-new".into()],
    )
    .await;
    let all = format!("{}\n{}", f.stdout, f.stderr);
    assert_eq!(f.code, Some(1), "{all}");
    assert_eq!(
        f.stdout
            .matches("the answer is larger than the limit of 4194304 bytes")
            .count(),
        15,
        "{all}"
    );
    assert!(f.stdout.contains("15 cases against"), "{all}");
    eprintln!(
        "peak RSS of conform with 15 answers of 100 MB: {:.1} MB",
        f.max_rss_bytes as f64 / MB as f64
    );
    assert!(
        f.max_rss_bytes < 100 * MB,
        "peak RSS {} bytes\n{all}",
        f.max_rss_bytes
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_targets_file_sets_the_limit_and_the_flag_wins() {
    let (uri, _sent) = huge_answers(3000, true).await;
    let toml = format!("[targets.small]\nendpoint = \"{uri}\"\nmax_answer_bytes = 1000\n");
    let (_dir, root) = project(1, Some(&toml));
    // `conform run --target small --no-new` plus what each check adds.
    let small = |extra: &[&str]| {
        let args = ["run", "--target", "small", "--no-new"]
            .iter()
            .chain(extra)
            .map(|a| a.to_string())
            .collect();
        run(&root, args)
    };
    let f = small(&[]).await;
    assert!(
        f.stdout
            .contains("larger than the limit of 1000 bytes (its Content-Length is 3000)"),
        "{}\n{}",
        f.stdout,
        f.stderr
    );
    // The flag wins over the file: 2,000 bytes is still too little, 4,000 is enough (the
    // answer is then read, and fails as the x's it is, not for its size).
    for (limit, too_large) in [(2000, true), (4000, false)] {
        let f = small(&["--max-answer-bytes", &limit.to_string()]).await;
        assert_eq!(
            f.stdout
                .contains(&format!("larger than the limit of {limit} bytes")),
            too_large,
            "{}\n{}",
            f.stdout,
            f.stderr
        );
        assert!(f.stdout.contains("1 cases against"), "{}", f.stdout);
    }
    let f = small(&["--max-answer-bytes", "0"]).await;
    assert_eq!(f.code, Some(2), "{}", f.stderr);
    assert!(f.stderr.contains("--max-answer-bytes"), "{}", f.stderr);
}
