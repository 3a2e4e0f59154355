//! The gate must notice an emulator that gets worse, also in cases that already had known
//! deviations. A loopback proxy in front of a target alters its answers in one plausible way
//! at a time; the gate, run with a baseline taken through the same proxy without that
//! mutation, must fail and name the new deviation (its kind and where).
//!
//! Against the built-in replay server (with every request id made a non-UUID first, as moto
//! does, so every case starts with a known deviation), and against moto.

mod common;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;

/// One way to make answers worse. Each applies wherever it can and leaves other answers as
/// they are.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mutation {
    /// Request ids that are not UUIDs, a new one each answer (what moto does): the
    /// deviation every case of the baseline starts with.
    RandomRequestIds,
    DropArn,
    OtherErrorCode,
    ServerErrorFor400,
    StsArnsInIam,
    OtherContentType,
    LongerMessage,
    ReceiverFault,
    OtherNamespace,
    MetadataFirst,
    ExtraElement,
    LongTermKeys,
    Truncated,
}

/// The mutations the gate must catch, with the kinds of deviation each may show as and a
/// piece of the path it is at.
const CAUGHT: [(Mutation, &[&str], &str); 12] = [
    (Mutation::DropArn, &["missing-element"], "/Arn"),
    (Mutation::OtherErrorCode, &["error-code"], "Error/Code"),
    (Mutation::ServerErrorFor400, &["status"], ""),
    (
        Mutation::StsArnsInIam,
        &["value-text", "value-shape"],
        "Arn",
    ),
    (Mutation::OtherContentType, &["content-type"], ""),
    (Mutation::LongerMessage, &["error-message"], "Error/Message"),
    (Mutation::ReceiverFault, &["error-type"], "Error/Type"),
    (Mutation::OtherNamespace, &["namespace"], "@xmlns"),
    (Mutation::MetadataFirst, &["element-order"], "Response"),
    (Mutation::ExtraElement, &["unexpected-element"], "/Extra"),
    (
        Mutation::LongTermKeys,
        &["value-shape"],
        "Credentials/AccessKeyId",
    ),
    (Mutation::Truncated, &["not-xml"], ""),
];

const STS_NS: &str = "xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"";

/// Where the root element's start tag ends (after any declaration).
fn after_root_start(body: &str) -> Option<usize> {
    let mut from = 0;
    loop {
        let lt = from + body[from..].find('<')?;
        if body[lt..].starts_with("<?") || body[lt..].starts_with("<!") {
            from = lt + body[lt..].find('>')? + 1;
            continue;
        }
        return Some(lt + body[lt..].find('>')? + 1);
    }
}

impl Mutation {
    fn apply(self, status: &mut u16, ct: &mut String, body: &mut String, n: u64) {
        let xml = body.trim_start().starts_with('<') && !body.contains("<html");
        match self {
            Mutation::RandomRequestIds => {
                let re = regex::Regex::new("<RequestId>[^<]*</RequestId>").unwrap();
                let id = format!("{:052X}", conform::deviation::fnv1a(&n.to_le_bytes()));
                *body = re
                    .replace_all(body, format!("<RequestId>{id}</RequestId>"))
                    .into_owned();
            }
            Mutation::DropArn => {
                let re = regex::Regex::new(r"<Arn>[^<]*</Arn>\s*").unwrap();
                *body = re.replace_all(body, "").into_owned();
            }
            Mutation::OtherErrorCode => {
                let re = regex::Regex::new("<Code>[^<]*</Code>").unwrap();
                *body = re
                    .replace_all(body, "<Code>InternalFailure</Code>")
                    .into_owned();
            }
            Mutation::ServerErrorFor400 => {
                if *status == 400 {
                    *status = 500;
                }
            }
            Mutation::StsArnsInIam => *body = body.replace("arn:aws:sts::", "arn:aws:iam::"),
            Mutation::OtherContentType => {
                if ct.starts_with("text/xml") {
                    *ct = "application/xml".into();
                }
            }
            Mutation::LongerMessage => *body = body.replace("</Message>", " (emulated)</Message>"),
            Mutation::ReceiverFault => {
                *body = body.replace("<Type>Sender</Type>", "<Type>Receiver</Type>")
            }
            Mutation::OtherNamespace => {
                *body = body.replace(STS_NS, "xmlns=\"https://sts.amazonaws.com/doc/2011-06-15\"")
            }
            Mutation::MetadataFirst => {
                let (Some(a), Some(b)) = (
                    body.find("<ResponseMetadata>"),
                    body.find("</ResponseMetadata>"),
                ) else {
                    return;
                };
                let b = b + "</ResponseMetadata>".len();
                let Some(at) = after_root_start(body) else {
                    return;
                };
                if at < a {
                    let meta = body[a..b].to_owned();
                    body.replace_range(a..b, "");
                    body.insert_str(at, &meta);
                }
            }
            Mutation::ExtraElement => {
                if let Some(at) = after_root_start(body).filter(|_| xml) {
                    body.insert_str(at, "<Extra>1</Extra>");
                }
            }
            Mutation::LongTermKeys => {
                *body = body.replace("<AccessKeyId>ASIA", "<AccessKeyId>AKIA")
            }
            Mutation::Truncated => {
                if xml && body.len() > 40 {
                    let cut = body.len() - 20;
                    let cut = (0..=cut)
                        .rev()
                        .find(|i| body.is_char_boundary(*i))
                        .unwrap_or(0);
                    body.truncate(cut);
                }
            }
        }
    }
}

/// A proxy on a free loopback port that forwards every request to `upstream` as it came
/// (the Host header too, so signatures still verify) and applies `mutations` to each answer.
async fn proxy(upstream: String, mutations: Vec<Mutation>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let shared = Arc::new((upstream, mutations, client, AtomicU64::new(0)));
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let shared = Arc::clone(&shared);
            tokio::spawn(async move {
                let service = service_fn(move |req: hyper::Request<Incoming>| {
                    let shared = Arc::clone(&shared);
                    async move { Ok::<_, Infallible>(forward(&shared, req).await) }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    format!("http://{addr}")
}

async fn forward(
    (upstream, mutations, client, counter): &(String, Vec<Mutation>, reqwest::Client, AtomicU64),
    req: hyper::Request<Incoming>,
) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let method = reqwest::Method::from_bytes(parts.method.as_str().as_bytes()).unwrap();
    let mut out = client
        .request(method, format!("{upstream}{path}"))
        .body(body);
    for (k, v) in &parts.headers {
        out = out.header(k.as_str(), v.as_bytes());
    }
    let fail = |why: String| {
        hyper::Response::builder()
            .status(599)
            .body(Full::new(Bytes::from(why)))
            .unwrap()
    };
    let resp = match out.send().await {
        Ok(r) => r,
        Err(e) => return fail(format!("proxy: {e}")),
    };
    let mut status = resp.status().as_u16();
    let mut ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let mut text = match resp.text().await {
        Ok(t) => t,
        Err(e) => return fail(format!("proxy: {e}")),
    };
    let n = counter.fetch_add(1, Ordering::Relaxed);
    for m in mutations {
        m.apply(&mut status, &mut ct, &mut text, n);
    }
    let mut b = hyper::Response::builder().status(status);
    if !ct.is_empty() {
        b = b.header("content-type", ct);
    }
    b.body(Full::new(Bytes::from(text))).unwrap()
}

fn conform(args: &[&str]) -> (i32, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_conform"))
        .arg("--root")
        .arg(common::repo())
        .args(args)
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env("CI", "true")
        .output()
        .expect("conform runs");
    (
        o.status.code().unwrap_or(-1),
        format!(
            "{}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

/// Takes a baseline through the proxy with `base` only, checks the gate passes twice with it
/// (no flapping), then each mutation on top of `base` must fail the gate and name the
/// deviation it made. `args` choose the target and its cases.
async fn every_mutation_fails_the_gate(upstream: &str, base: &[Mutation], args: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let baseline = dir.path().join("baseline.toml");
    let b = baseline.to_str().unwrap();
    let run = |endpoint: &str, extra: &[&str]| {
        let mut a: Vec<&str> = vec!["run", "--endpoint", endpoint, "--baseline", b, "--no-new"];
        a.extend(args);
        a.extend(extra);
        let owned: Vec<String> = a.iter().map(|s| s.to_string()).collect();
        async move {
            tokio::task::spawn_blocking(move || {
                let refs: Vec<&str> = owned.iter().map(String::as_str).collect();
                conform(&refs)
            })
            .await
            .unwrap()
        }
    };
    let clean = proxy(upstream.to_owned(), base.to_vec()).await;
    let (code, out) = run(&clean, &["--update-baseline"]).await;
    assert_eq!(code, 0, "{out}");
    let listed = std::fs::read_to_string(&baseline).unwrap_or_default();
    // Every case starts with known deviations: what the gate must see past.
    assert!(listed.matches("[[case]]").count() >= 10, "{listed}");
    for _ in 0..2 {
        let (code, out) = run(&clean, &[]).await;
        assert_eq!(code, 0, "the gate must pass unmutated\n{out}\n{listed}");
        assert!(out.contains("gate against"), "{out}");
    }
    for (mutation, kinds, path) in CAUGHT {
        let mut all = base.to_vec();
        all.push(mutation);
        let endpoint = proxy(upstream.to_owned(), all).await;
        let (code, out) = run(&endpoint, &[]).await;
        assert_eq!(code, 1, "{mutation:?} passed the gate:\n{out}");
        let named = out.lines().filter(|l| l.starts_with("NEW ")).any(|l| {
            kinds.iter().any(|k| {
                let at = l.find(&format!(" {k}")).map(|i| &l[i..]).unwrap_or("");
                l.contains(": step ") && !at.is_empty() && (path.is_empty() || at.contains(path))
            })
        });
        assert!(
            named,
            "{mutation:?}: no NEW line names a {kinds:?} deviation at a path with `{path}`:\n{out}"
        );
        // Never mistaken for silence.
        assert!(!out.contains("NO ANSWER"), "{mutation:?}:\n{out}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_gate_catches_every_mutation_of_the_replay_servers_answers() {
    let layout = conform::suite::Layout::at(common::repo());
    let suite = conform::suite::Suite::load(&layout).unwrap();
    let vars = conform::target::default_vars("us-east-1");
    let run_id = format!("run_id={}", vars["run_id"]);
    let replay = Arc::new(conform::replay::Replay::from_suite(&suite, vars));
    let server = conform::replay::serve(replay, 0).await.unwrap();
    every_mutation_fails_the_gate(
        &server.uri(),
        &[Mutation::RandomRequestIds],
        // The replay server stands for these variables; the cases needing a real target's
        // state are left out as the built-in run does.
        &[
            "--var",
            &run_id,
            "--filter",
            "AssumeRole::",
            "--filter",
            "GetCallerIdentity::",
            "--filter",
            "GetSessionToken::",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_moto_gate_catches_every_mutation_of_motos_answers() {
    if common::skipped(common::Install::Moto) {
        return;
    }
    let root = common::repo();
    let targets = conform::targets::Targets::load(&root.join("conform.toml")).unwrap();
    let launch = targets.get("moto").unwrap().start.clone().unwrap();
    let moto = tokio::task::spawn_blocking(move || {
        conform::emulator::Emulator::start("moto", &launch, Path::new(root)).unwrap()
    })
    .await
    .unwrap();
    // moto's own deviations (its request ids among them) are what the baseline holds.
    every_mutation_fails_the_gate(
        moto.url(),
        &[],
        &[
            "--target",
            "moto",
            // STS's documented examples (their ids go on after `doc_example_`; IAM's end
            // there, and moto cannot set up all of them, which the main gate judges).
            "--filter",
            "doc_example_",
            "--filter",
            "session_name",
            "--filter",
            "GetCallerIdentity::",
            "--filter",
            "GetSessionToken::",
        ],
    )
    .await;
    drop(moto);
}
