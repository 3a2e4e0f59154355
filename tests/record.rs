//! Record mode against local endpoints (nobody here can record against AWS): snapshots are
//! written with their provenance and no secret, a signature verifier accepts every signed
//! request, and the safety rails hold.

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{Deviation, FakeSts};
use conform::sign::{self, Credentials};
use conform::transport::HttpRequest;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate, matchers::any};

const CANARY_KEY: &str = "AKIACANARYRECORD0000";
const CANARY_SECRET: &str = "CANARYrecordSECRET/that+never=lands000000";

fn conform(root: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_conform"));
    cmd.arg("--root").arg(root).args(args);
    cmd.env("AWS_ACCESS_KEY_ID", CANARY_KEY)
        .env("AWS_SECRET_ACCESS_KEY", CANARY_SECRET)
        .env_remove("AWS_SESSION_TOKEN");
    cmd.env_remove("CONFORM_ALLOW_AWS").env("CI", "");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

/// An endpoint that checks every signed request's SigV4 with the run's credentials before
/// answering, independently of the harness's signing path (it re-signs what it received).
struct Verifying {
    inner: FakeSts,
    verified: Arc<AtomicUsize>,
    rejected: Arc<AtomicUsize>,
}

impl Respond for Verifying {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let headers: Vec<(String, String)> = req
            .headers
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect();
        if headers.iter().any(|(k, _)| k == "authorization") {
            let host = headers
                .iter()
                .find(|(k, _)| k == "host")
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            let r = HttpRequest {
                method: req.method.to_string(),
                url: format!("http://{host}{}", req.url.path()),
                headers,
                body: req.body.clone(),
            };
            let creds = Credentials {
                access_key_id: CANARY_KEY.into(),
                secret_access_key: CANARY_SECRET.into(),
                session_token: None,
            };
            if !sign::verify(&creds, &r) {
                self.rejected.fetch_add(1, Ordering::SeqCst);
                return ResponseTemplate::new(403).set_body_raw("<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code></Error></ErrorResponse>", "text/xml");
            }
            self.verified.fetch_add(1, Ordering::SeqCst);
        }
        self.inner.respond(req)
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn recording_an_emulator_says_so_leaves_scenarios_alone_and_leaks_nothing() {
    let (verified, rejected) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(Verifying {
            inner: FakeSts {
                deviation: Deviation::None,
            },
            verified: Arc::clone(&verified),
            rejected: Arc::clone(&rejected),
        })
        .mount(&server)
        .await;
    let (_dir, root) = common::starter_copy();
    let o = conform(&root, &["record", "--target", &server.uri()], &[]);
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    );
    assert_eq!(o.status.code(), Some(0), "{out}\n{err}");
    assert!(
        out.starts_with(
            "recording as arn:aws:iam::123456789012:user/conform in account 123456789012"
        ),
        "{out}"
    );
    assert!(
        out.contains("recorded 4 snapshots, 0 cases not recorded, 0 refused"),
        "{out}"
    );
    assert!(
        verified.load(Ordering::SeqCst) >= 5,
        "the verifier saw the signed requests"
    );
    assert_eq!(
        rejected.load(Ordering::SeqCst),
        0,
        "every signature verified"
    );

    let snap = std::fs::read_to_string(
        root.join("snapshots/sts/GetCallerIdentity/get_caller_identity.snap"),
    )
    .unwrap();
    // Answers from a local endpoint are not AWS's: the header says so, and keeps the case's
    // own provenance.
    assert!(
        snap.contains(&format!(
            "provenance: documented, answers recorded against {} (us-east-1), not AWS, on ",
            server.uri()
        )),
        "{snap}"
    );
    assert!(
        snap.contains("<Account>[account-id]</Account>"),
        "no account id reaches disk: {snap}"
    );
    assert!(
        out.contains("scenario files left as they are: ") && out.contains("is not AWS"),
        "{out}"
    );
    for f in common::walk(&root.join("scenarios")) {
        let now = std::fs::read(&f).unwrap();
        let before = std::fs::read(common::starter().join(f.strip_prefix(&root).unwrap()));
        assert_eq!(Some(now), before.ok(), "{} was rewritten", f.display());
    }
    for f in common::walk(&root.join("snapshots"))
        .into_iter()
        .chain(common::walk(&root.join("scenarios")))
    {
        let t = std::fs::read_to_string(&f).unwrap();
        for bad in [CANARY_SECRET, CANARY_KEY, "123456789012"] {
            assert!(!t.contains(bad), "{} holds {bad}", f.display());
        }
    }
    for t in [&out, &err] {
        assert!(!t.contains(CANARY_SECRET), "{t}");
    }
    // What was recorded passes against the same endpoint.
    let o = conform(
        &root,
        &["run", "--endpoint", &server.uri(), "--no-new"],
        &[],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_snapshot_that_would_hold_a_key_is_refused_and_nothing_is_written() {
    // AssumeRole answers echo the request: its Authorization header names the access key.
    let server = common::start(Deviation::EchoAction("AssumeRole")).await;
    let (_dir, root) = common::starter_copy();
    let snap = root.join("snapshots/sts/AssumeRole/assume_role_session_name_too_short.snap");
    let before = std::fs::read_to_string(&snap).unwrap();
    let o = conform(
        &root,
        &[
            "record",
            "--target",
            &server.uri(),
            "--filter",
            "session_name",
        ],
        &[],
    );
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("REFUSED sts::AssumeRole::assume_role_session_name_too_short"),
        "{out}"
    );
    assert!(
        out.contains("recorded 0 snapshots, 0 cases not recorded, 1 refused for a secret"),
        "{out}"
    );
    // Caught before anything reached the disk: the stored snapshot is as it was.
    assert_eq!(std::fs::read_to_string(&snap).unwrap(), before);
    let yaml = std::fs::read_to_string(root.join("scenarios/sts/AssumeRole/limits.yaml")).unwrap();
    assert!(
        !yaml.contains("provenance: recorded"),
        "a refused case keeps its provenance"
    );
    for f in common::walk(&root.join("snapshots")) {
        assert!(
            !std::fs::read_to_string(&f).unwrap().contains(CANARY_KEY),
            "{}",
            f.display()
        );
    }
}

#[test]
fn aws_needs_an_explicit_confirmation_and_dry_runs_send_nothing() {
    let (_dir, root) = common::starter_copy();
    let o = conform(&root, &["record", "--target", "aws"], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("confirm with --allow-aws or CONFORM_ALLOW_AWS=1")
    );
    let o = conform(&root, &["record", "--target", "aws"], &[("CI", "true")]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("recording never runs in CI unless asked"));
    let o = conform(
        &root,
        &["record", "--target", "aws", "--allow-aws", "--dry-run"],
        &[],
    );
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "{out}");
    assert!(
        out.contains("dry run: would record 4 cases against aws (us-east-1); nothing is sent"),
        "{out}"
    );
    assert!(
        out.contains("  call sts:AssumeRole at https://sts.amazonaws.com/"),
        "{out}"
    );
}

/// Refuses the first `n` AssumeRole requests with `code` (status 400), then answers as the
/// STS stand-in does.
struct FirstRefuses {
    code: &'static str,
    left: AtomicUsize,
    seen: Arc<AtomicUsize>,
    inner: FakeSts,
}

impl Respond for FirstRefuses {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let action: String = form_urlencoded::parse(&req.body)
            .find(|(k, _)| k == "Action")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        if action == "AssumeRole" {
            self.seen.fetch_add(1, Ordering::SeqCst);
            if self.left.load(Ordering::SeqCst) > 0 {
                self.left.fetch_sub(1, Ordering::SeqCst);
                let status = if self.code == "AccessDenied" {
                    403
                } else {
                    400
                };
                return ResponseTemplate::new(status).set_body_raw(
                    format!("<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>{}</Code><Message>not now</Message></Error><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ErrorResponse>", self.code),
                    "text/xml",
                );
            }
        }
        self.inner.respond(req)
    }
}

async fn refusing(code: &'static str, n: usize) -> (MockServer, Arc<AtomicUsize>) {
    let seen = Arc::new(AtomicUsize::new(0));
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(FirstRefuses {
            code,
            left: AtomicUsize::new(n),
            seen: Arc::clone(&seen),
            inner: FakeSts {
                deviation: Deviation::None,
            },
        })
        .mount(&server)
        .await;
    (server, seen)
}

#[tokio::test(flavor = "multi_thread")]
async fn throttling_is_retried_with_backoff_in_record_mode_only() {
    let (server, seen) = refusing("Throttling", 2).await;
    let (_dir, root) = common::starter_copy();
    let o = conform(
        &root,
        &[
            "record",
            "--target",
            &server.uri(),
            "--filter",
            "boto3",
            "--retry-base-ms",
            "5",
        ],
        &[],
    );
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    );
    assert_eq!(o.status.code(), Some(0), "{out}\n{err}");
    assert_eq!(
        seen.load(Ordering::SeqCst),
        3,
        "two refusals, then the answer"
    );
    assert_eq!(
        err.matches("retry: sts:AssumeRole: throttled").count(),
        2,
        "{err}"
    );
    let snap = std::fs::read_to_string(
        root.join("snapshots/sts/AssumeRole/assume_role_doc_example_boto3.snap"),
    )
    .unwrap();
    assert!(
        snap.contains("HTTP 200 OK"),
        "the answer after the retries is what is recorded: {snap}"
    );

    // A conformance run reports what it got: no retry.
    let (server, seen) = refusing("Throttling", 1).await;
    let o = conform(
        &root,
        &[
            "run",
            "--endpoint",
            &server.uri(),
            "--filter",
            "boto3",
            "--no-new",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(seen.load(Ordering::SeqCst), 1);
}

/// A case that assumes a role its setup step has just created.
const FRESH_ROLE: &str = r#"
cases:
  - id: fresh_role
    kind: exception
    provenance: inferred
    description: A role made for the case, assumed at once.
    steps:
      - service: iam
        operation: CreateRole
        setup: true
        params: {RoleName: 'conform-{{run_id}}-fresh', AssumeRolePolicyDocument: '{}'}
        capture: {fresh_arn: CreateRoleResult/Role/Arn, fresh_name: //RoleName}
      - operation: AssumeRole
        params: {RoleArn: '{{fresh_arn}}', RoleSessionName: s1}
      - service: iam
        operation: DeleteRole
        cleanup: true
        params: {RoleName: '{{fresh_name}}'}
"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_refusal_right_after_setup_is_retried_while_iam_propagates() {
    let (_dir, root) = common::project(&[("scenarios/sts/AssumeRole/fresh.yaml", FRESH_ROLE)]);
    let (server, seen) = refusing("AccessDenied", 2).await;
    let o = conform(
        &root,
        &["record", "--target", &server.uri(), "--retry-base-ms", "5"],
        &[],
    );
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    );
    assert_eq!(o.status.code(), Some(0), "{out}\n{err}");
    assert_eq!(seen.load(Ordering::SeqCst), 3);
    assert!(
        err.contains(
            "retry: sts:AssumeRole: refused while what setup created may still be propagating"
        ),
        "{err}"
    );
    let snap =
        std::fs::read_to_string(root.join("snapshots/sts/AssumeRole/fresh_role.snap")).unwrap();
    assert!(
        snap.contains("HTTP 200 OK") && snap.contains("assumed-role/conform-[run-id]-fresh/s1"),
        "{snap}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refusal_the_snapshot_expects_is_recorded_without_waiting() {
    let (_dir, root) = common::project(&[("scenarios/sts/AssumeRole/fresh.yaml", FRESH_ROLE)]);
    let record = |uri: &str| {
        let o = conform(
            &root,
            &["record", "--target", uri, "--retry-base-ms", "5"],
            &[],
        );
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert_eq!(o.status.code(), Some(0), "{err}");
        err
    };
    // No snapshot yet: the refusal may be IAM still propagating the role, so it is asked
    // again until the attempts run out, and what stays is recorded.
    let (server, seen) = refusing("AccessDenied", usize::MAX).await;
    let err = record(&server.uri());
    assert_eq!(
        seen.load(Ordering::SeqCst),
        6,
        "the first and 5 retries: {err}"
    );
    let snap = root.join("snapshots/sts/AssumeRole/fresh_role.snap");
    let first = std::fs::read_to_string(&snap).unwrap();
    assert!(first.contains("<Code>AccessDenied</Code>"), "{first}");

    // Recorded again: the snapshot expects that refusal at that step, so it is taken at once.
    let (server, seen) = refusing("AccessDenied", usize::MAX).await;
    let err = record(&server.uri());
    assert_eq!(seen.load(Ordering::SeqCst), 1, "{err}");
    assert!(!err.contains("retry:"), "{err}");
    let body = |s: &str| s.split_once("\n---\n").map(|(_, b)| b.to_owned());
    assert_eq!(
        body(&std::fs::read_to_string(&snap).unwrap()),
        body(&first),
        "the same answer is recorded"
    );

    // A refusal other than the one expected may still be propagation (STS's data name
    // InvalidClientTokenId too): it is waited out.
    let (server, seen) = refusing("InvalidClientTokenId", usize::MAX).await;
    record(&server.uri());
    assert_eq!(seen.load(Ordering::SeqCst), 6);
    let (server, seen) = refusing("AccessDenied", 0).await;
    record(&server.uri());
    assert_eq!(seen.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_profile_of_the_shared_files_supplies_keys_and_region() {
    let (verified, rejected) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(Verifying {
            inner: FakeSts {
                deviation: Deviation::None,
            },
            verified: Arc::clone(&verified),
            rejected: Arc::clone(&rejected),
        })
        .mount(&server)
        .await;
    let (_dir, root) = common::starter_copy();
    let files = tempfile::tempdir().unwrap();
    let creds = files.path().join("credentials");
    let config = files.path().join("config");
    std::fs::write(
        &creds,
        format!(
            "[canary]\naws_access_key_id = {CANARY_KEY}\naws_secret_access_key = {CANARY_SECRET}\n"
        ),
    )
    .unwrap();
    std::fs::write(&config, "[profile canary]\nregion = eu-west-1\n").unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_conform"));
    cmd.arg("--root").arg(&root).args([
        "record",
        "--target",
        &server.uri(),
        "--profile",
        "canary",
        "--filter",
        "get_caller_identity",
    ]);
    cmd.env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION");
    cmd.env("AWS_SHARED_CREDENTIALS_FILE", &creds)
        .env("AWS_CONFIG_FILE", &config)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("CI", "");
    let o = cmd.output().unwrap();
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    );
    assert_eq!(o.status.code(), Some(0), "{out}\n{err}");
    assert!(out.contains("(eu-west-1)"), "the profile's region: {out}");
    assert!(
        verified.load(Ordering::SeqCst) >= 2 && rejected.load(Ordering::SeqCst) == 0,
        "signed with the profile's keys"
    );
    for t in [&out, &err] {
        assert!(!t.contains(CANARY_SECRET));
    }
    for f in common::walk(&root.join("snapshots")) {
        assert!(
            !std::fs::read_to_string(&f).unwrap().contains(CANARY_SECRET),
            "{}",
            f.display()
        );
    }
}

/// `record --missing` against a local target (named in the targets file, so its name is the
/// same from run to run): a snapshot already recorded from it stays byte for byte and its
/// case is not even sent; a missing one is written, and so is one whose answers came from
/// elsewhere (here: documented), since that target's recording of it is what is missing.
#[tokio::test(flavor = "multi_thread")]
async fn record_missing_records_only_what_this_target_has_not_answered() {
    let server = common::start(Deviation::None).await;
    let (_dir, root) = common::starter_copy();
    std::fs::write(
        root.join("conform.toml"),
        format!("[targets.local]\nendpoint = \"{}\"\n", server.uri()),
    )
    .unwrap();
    let snaps = root.join("snapshots/sts");
    let recorded = snaps.join("AssumeRole/assume_role_doc_example_boto3.snap");
    let missing = snaps.join("GetCallerIdentity/get_caller_identity.snap");
    let documented = snaps.join("AssumeRole/assume_role_session_name_too_short.snap");
    // One case recorded from this target before, one snapshot gone.
    let o = conform(
        &root,
        &[
            "record",
            "--target",
            "local",
            "--filter",
            "doc_example_boto3",
        ],
        &[],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    std::fs::remove_file(&missing).unwrap();
    let recorded_before = std::fs::read(&recorded).unwrap();
    let documented_before = std::fs::read_to_string(&documented).unwrap();
    let sent_before = server.received_requests().await.unwrap().len();

    let o = conform(&root, &["record", "--target", "local", "--missing"], &[]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains(
            "--missing: 1 of 4 cases have a snapshot recorded against local and are left as they are"
        ),
        "{out}"
    );
    assert!(out.contains("recorded 3 snapshots"), "{out}");
    assert_eq!(std::fs::read(&recorded).unwrap(), recorded_before);
    let sent: Vec<String> = server.received_requests().await.unwrap()[sent_before..]
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect();
    assert!(
        !sent.iter().any(|b| b.contains("testAssumeRoleSession")),
        "the recorded case was sent again: {sent:#?}"
    );
    let written = std::fs::read_to_string(&missing).unwrap();
    assert!(
        written.contains("answers recorded against local (us-east-1)"),
        "{written}"
    );
    let rerecorded = std::fs::read_to_string(&documented).unwrap();
    assert_ne!(rerecorded, documented_before);
    assert!(
        rerecorded.contains("answers recorded against local (us-east-1)"),
        "{rerecorded}"
    );

    // Once everything is recorded, nothing is missing and nothing is sent.
    let sent_before = server.received_requests().await.unwrap().len();
    let o = conform(&root, &["record", "--target", "local", "--missing"], &[]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("nothing is missing"), "{out}");
    assert_eq!(server.received_requests().await.unwrap().len(), sent_before);
}

/// For AWS, a snapshot is recorded when its header says it was recorded against AWS.
#[test]
fn record_missing_for_aws_leaves_what_aws_answered() {
    let (_dir, root) = common::starter_copy();
    let snap = root.join("snapshots/sts/AssumeRole/assume_role_doc_example_boto3.snap");
    let text = std::fs::read_to_string(&snap).unwrap();
    let text = text.replace(
        "provenance: documented,",
        "provenance: recorded against aws (us-east-1) on 2026-11-30 by conform 0.1.0,",
    );
    std::fs::write(&snap, text).unwrap();
    let o = conform(
        &root,
        &["record", "--target", "aws", "--missing", "--dry-run"],
        &[],
    );
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("--missing: 1 of 4 cases"), "{out}");
    assert!(out.contains("would record 3 cases against aws"), "{out}");
    assert!(!out.contains("assume_role_doc_example_boto3"), "{out}");
}
