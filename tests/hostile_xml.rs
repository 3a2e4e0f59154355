//! A hostile endpoint whose every answer nests elements 100,000 deep, run through the real
//! binary: the run must end as any failing run does (summary, reports, exit 1), each case's
//! failure must name the depth, and nothing it writes may grow faster than the answer.

mod common;

use std::convert::Infallible;
use std::path::Path;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;

const DEPTH: usize = 100_000;

fn nested(depth: usize) -> String {
    let open = "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">";
    format!(
        "{open}{}{}</GetCallerIdentityResponse>",
        "<a>".repeat(depth - 1),
        "</a>".repeat(depth - 1)
    )
}

/// A loopback server answering every request, whatever it asks, with `body` as STS XML.
async fn answering(body: String) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let body = Bytes::from(body);
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let body = body.clone();
            tokio::spawn(async move {
                let service = service_fn(move |_req: hyper::Request<Incoming>| {
                    let body = body.clone();
                    async move {
                        Ok::<_, Infallible>(
                            hyper::Response::builder()
                                .header("content-type", "text/xml")
                                .body(Full::new(body))
                                .unwrap(),
                        )
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    format!("http://{addr}")
}

fn size(path: &Path) -> usize {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{} was not written: {e}", path.display()))
        .len() as usize
}

#[tokio::test(flavor = "multi_thread")]
async fn an_answer_nested_100000_deep_fails_each_case_cleanly_and_names_the_depth() {
    let body = nested(DEPTH);
    let endpoint = answering(body.clone()).await;
    let (_dir, root) = common::starter_copy();
    let (o, reports) = common::run_reporting(&root, &endpoint);
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    let head = |s: &str| s.chars().take(3000).collect::<String>();

    // The failing gate's code, not an abort (134) or a signal.
    assert_eq!(
        o.status.code(),
        Some(1),
        "stdout: {}\nstderr: {}",
        head(&out),
        head(&err)
    );
    assert!(!err.contains("overflow"), "{}", head(&err));
    let summary = out
        .lines()
        .find(|l| l.starts_with("4 cases against "))
        .unwrap_or_else(|| panic!("no summary: {}", head(&out)));
    assert!(
        summary.contains(": 0 passed, "),
        "every case got the deep answer: {summary}"
    );

    let depth_problem = format!(
        "elements nest {DEPTH} levels deep, more than the {} levels an answer may have",
        conform::xml::MAX_DEPTH
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&reports[0]).unwrap()).unwrap();
    let cases = report["cases"].as_array().expect("cases in the report");
    assert_eq!(cases.len(), 4);
    for case in cases {
        assert!(
            case.to_string().contains(&depth_problem),
            "the case's failure names the depth: {}",
            head(&case.to_string())
        );
    }
    assert!(out.matches(&depth_problem).count() >= 4, "{}", head(&out));

    // Linear in the answer: each of the 4 cases carries it about once in its diff (the HTML
    // and JUnit escape it, so about 2.7 times), never indentation growing with the depth,
    // which would be gigabytes here.
    assert!(
        out.len() < 4 * 2 * body.len(),
        "stdout is {} bytes for a {}-byte answer",
        out.len(),
        body.len()
    );
    assert!(err.len() < 64 * 1024, "stderr is {} bytes", err.len());
    for r in &reports {
        assert!(
            size(r) < 4 * 4 * body.len(),
            "{} is {} bytes for a {}-byte answer",
            r.display(),
            size(r),
            body.len()
        );
    }
    for new in std::fs::read_dir(root.join("snapshots/sts"))
        .unwrap()
        .flatten()
        .flat_map(|d| std::fs::read_dir(d.path()).into_iter().flatten().flatten())
        .filter(|f| f.path().extension().is_some_and(|e| e == "new"))
    {
        assert!(size(&new.path()) < 4 * body.len());
    }
}
