//! A case that pins PackedPolicySize checks the number, not only its shape: against a
//! wiremock endpoint over loopback, against the replay server of its own snapshot, and
//! through record mode's writing.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use conform::deviation::{Kind, Level};
use conform::record::{self, Recording};
use conform::replay::{self, Replay};
use conform::runner::{CaseResult, Outcome, Runner};
use conform::secrets::Secrets;
use conform::suite::{Layout, Suite};
use conform::target::{self, Target};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

const POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}]}"#;

/// Two cases sending the same policy (each its own session name, so the replay server tells
/// them apart): one pins the size, one keeps its shape.
fn scenario() -> String {
    let case = |id: &str, pin: &str| {
        format!(
            "  - id: {id}\n    kind: doc-example\n    provenance: recorded\n    description: AssumeRole with a small inline policy.\n    source: a recording of AWS\n{pin}    steps:\n      - params:\n          RoleArn: '{{{{role_arn}}}}'\n          RoleSessionName: {id}\n          Policy: '{POLICY}'\n"
        )
    };
    format!(
        "cases:\n{}{}",
        case("assume_role_pinned", "    pin: [PackedPolicySize]\n"),
        case("assume_role_shaped", "")
    )
}

fn snapshot(id: &str, size: &str) -> String {
    format!(
        "---\nsource: \"scenarios/sts/AssumeRole/a.yaml\"\ndescription: \"doc-example {id}, provenance: recorded\"\n---\n=== step 1: AssumeRole\nHTTP 200 OK\ncontent-type: text/xml\n<AssumeRoleResponse xmlns=\"{}\">\n  <AssumeRoleResult>\n    <PackedPolicySize>{size}</PackedPolicySize>\n  </AssumeRoleResult>\n  <ResponseMetadata>\n    <RequestId>[request-id]</RequestId>\n  </ResponseMetadata>\n</AssumeRoleResponse>\n",
        common::NS
    )
}

fn project() -> (tempfile::TempDir, PathBuf) {
    common::project(&[
        ("scenarios/sts/AssumeRole/a.yaml", &scenario()),
        (
            "snapshots/sts/AssumeRole/assume_role_pinned.snap",
            &snapshot("assume_role_pinned", "16"),
        ),
        (
            "snapshots/sts/AssumeRole/assume_role_shaped.snap",
            &snapshot("assume_role_shaped", "[packed-policy-size]"),
        ),
    ])
}

/// An endpoint whose every answer is an AssumeRole success with this packed size.
async fn endpoint(size: u32) -> MockServer {
    let server = MockServer::start().await;
    let body = format!(
        "<AssumeRoleResponse xmlns=\"{}\"><AssumeRoleResult><PackedPolicySize>{size}</PackedPolicySize></AssumeRoleResult><ResponseMetadata><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ResponseMetadata></AssumeRoleResponse>",
        common::NS
    );
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_raw(body, "text/xml"))
        .mount(&server)
        .await;
    server
}

/// The results of both cases against `uri`, pinned first.
async fn run(root: &Path, uri: &str) -> (Arc<Suite>, Vec<CaseResult>) {
    let suite = Arc::new(Suite::load(&Layout::at(root)).expect("the project loads"));
    let mut target = Target::at_endpoint(uri, "us-east-1", |_| None).unwrap();
    target.timeout = Duration::from_secs(5);
    let runner = Runner::new(Arc::clone(&suite), target, Secrets::new()).unwrap();
    let mut results = Vec::new();
    for id in ["assume_role_pinned", "assume_role_shaped"] {
        let i = suite.cases.iter().position(|c| c.id == id).unwrap();
        results.push(runner.check(i).await);
    }
    (suite, results)
}

fn assert_pass(r: &CaseResult) {
    assert_eq!(
        r.outcome,
        Outcome::Pass,
        "{}\n{}",
        r.test_name,
        r.run.transcript
    );
}

/// The pinned case's answer kept the recorded size as it is.
fn assert_holds_16(r: &conform::runner::CaseResult) {
    assert!(
        r.run
            .transcript
            .contains("<PackedPolicySize>16</PackedPolicySize>"),
        "{}",
        r.run.transcript
    );
}

#[tokio::test]
async fn the_recorded_size_passes_pinned_and_unpinned() {
    let (_dir, root) = project();
    let server = endpoint(16).await;
    let (_, results) = run(&root, &server.uri()).await;
    for r in &results {
        assert_pass(r);
    }
    assert_holds_16(&results[0]);
}

#[tokio::test]
async fn another_size_fails_the_pinned_case_on_its_value_and_passes_the_shape() {
    let (_dir, root) = project();
    let server = endpoint(6).await;
    let (_, results) = run(&root, &server.uri()).await;
    let Outcome::Fail { deviations, diff } = &results[0].outcome else {
        panic!(
            "the pinned case should fail, got {:?}\n{}",
            results[0].outcome, results[0].run.transcript
        );
    };
    assert_eq!(deviations.len(), 1, "{deviations:?}");
    let d = &deviations[0];
    assert_eq!(d.kind, Kind::ValueText, "{d:?}");
    assert_eq!(d.kind.level(), Level::Values);
    assert!(
        d.path.ends_with("AssumeRoleResult/PackedPolicySize"),
        "{d:?}"
    );
    assert_eq!(
        (d.expected.as_deref(), d.actual.as_deref()),
        (Some("16"), Some("6"))
    );
    assert!(
        diff.to_string()
            .contains("+    <PackedPolicySize>6</PackedPolicySize>"),
        "{diff}"
    );
    assert_pass(&results[1]);
}

#[tokio::test]
async fn the_replay_server_answers_the_pinned_literal() {
    let (_dir, root) = project();
    let suite = Suite::load(&Layout::at(&root)).unwrap();
    let replay = Arc::new(Replay::from_suite(
        &suite,
        target::default_vars("us-east-1"),
    ));
    let server = replay::serve(Arc::clone(&replay), 0).await.unwrap();
    let (_, results) = run(&root, &server.uri()).await;
    // Both requests matched their own case; the pinned one got the literal back, the
    // other a fresh value in its placeholder's shape.
    for r in &results {
        assert_pass(r);
    }
    assert_holds_16(&results[0]);
    let report = replay.report();
    assert_eq!(report.unmatched_count, 0, "{:?}", report.unmatched);
    assert!(
        report.never_requested.is_empty(),
        "{:?}",
        report.never_requested
    );
}

#[tokio::test]
async fn record_mode_writes_the_pinned_literal() {
    let (_dir, root) = project();
    let server = endpoint(16).await;
    let (suite, results) = run(&root, &server.uri()).await;
    let rec = Recording {
        target: server.uri(),
        region: "us-east-1".into(),
        date: "2026-01-01".into(),
        account: common::ACCOUNT.into(),
        against_aws: false,
    };
    let mut written = Vec::new();
    for (r, id) in results
        .iter()
        .zip(["assume_role_pinned", "assume_role_shaped"])
    {
        let case = suite.cases.iter().find(|c| c.id == id).unwrap();
        let path = record::write(
            &suite.snapshots,
            case,
            &r.run.transcript,
            &rec,
            &Secrets::new(),
        )
        .unwrap();
        written.push(std::fs::read_to_string(path).unwrap());
    }
    assert!(
        written[0].contains("<PackedPolicySize>16</PackedPolicySize>"),
        "{}",
        written[0]
    );
    assert!(
        written[1].contains("<PackedPolicySize>[packed-policy-size]</PackedPolicySize>"),
        "{}",
        written[1]
    );
    // What was written is what the next run is judged by.
    let (_, again) = run(&root, &server.uri()).await;
    for r in &again {
        assert_pass(r);
    }
}
