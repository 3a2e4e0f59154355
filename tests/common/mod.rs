//! A wiremock server that plays an STS emulator over loopback: it answers the starter
//! scenarios the way STS.md says AWS does, or with one chosen deviation.
#![allow(dead_code)]

pub mod sdk;

use std::path::{Path, PathBuf};
use std::time::Duration;

use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub const NS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";
pub const ACCOUNT: &str = "123456789012";

#[derive(Clone, Debug, PartialEq)]
pub enum Deviation {
    None,
    ChangedMessage,
    MissingElement,
    ReorderedElements,
    WrongNamespace,
    WrongStatus,
    Html500,
    Slow(Duration),
    /// Puts every request header and the body into the answer, as a careless emulator might.
    EchoRequest,
    /// Echoes only requests signed with a session token (temporary credentials).
    EchoSessionRequests,
    /// Echoes only requests for this action.
    EchoAction(&'static str),
    /// Hands out credentials whose values are the canary, in shapes AWS never uses.
    LeakyCredentials(String),
}

#[derive(Clone)]
pub struct FakeSts {
    pub deviation: Deviation,
}

fn request_id() -> String {
    // Any UUID shape will do; the harness redacts it.
    "c6104cbe-af31-11e0-8154-cbc7ccf896c7".to_owned()
}

fn error(code: &str, msg: &str) -> String {
    format!(
        "<ErrorResponse xmlns=\"{NS}\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{msg}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
        request_id()
    )
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

const IAM_NS: &str = "https://iam.amazonaws.com/doc/2010-05-08/";

fn iam_error(code: &str, msg: &str) -> String {
    format!(
        "<ErrorResponse xmlns=\"{IAM_NS}\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{msg}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
        request_id()
    )
}

/// Role names containing `taken` already exist; those containing `stuck` cannot be deleted.
fn iam(action: &str, name: &str) -> (u16, String) {
    let rid = request_id();
    match action {
        "CreateRole" if name.contains("taken") => (
            409,
            iam_error(
                "EntityAlreadyExists",
                &format!("Role with name {name} already exists."),
            ),
        ),
        "CreateRole" => (
            200,
            format!(
                "<CreateRoleResponse xmlns=\"{IAM_NS}\"><CreateRoleResult><Role><RoleName>{name}</RoleName><Arn>arn:aws:iam::{ACCOUNT}:role/{name}</Arn><RoleId>AROA3XFRBF535EXAMPLE2</RoleId><CreateDate>2026-01-01T00:00:00Z</CreateDate></Role></CreateRoleResult><ResponseMetadata><RequestId>{rid}</RequestId></ResponseMetadata></CreateRoleResponse>"
            ),
        ),
        _ if name.contains("stuck") => (
            409,
            iam_error(
                "DeleteConflict",
                "Cannot delete entity, must detach all policies first.",
            ),
        ),
        _ => (
            200,
            format!(
                "<DeleteRoleResponse xmlns=\"{IAM_NS}\"><ResponseMetadata><RequestId>{rid}</RequestId></ResponseMetadata></DeleteRoleResponse>"
            ),
        ),
    }
}

impl Respond for FakeSts {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let params: Vec<(String, String)> =
            form_urlencoded::parse(&req.body).into_owned().collect();
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let action = get("Action").unwrap_or_default();
        let ns = if self.deviation == Deviation::WrongNamespace {
            "https://sts.amazonaws.com/doc/2011-06-15"
        } else {
            NS
        };
        let (mut status, mut body) = if get("Version").is_none() {
            (
                400,
                error(
                    "InvalidAction",
                    &format!("Could not find operation {action} for version NO_VERSION_SPECIFIED"),
                ),
            )
        } else {
            match action.as_str() {
                "GetCallerIdentity" => {
                    let auth = req
                        .headers
                        .get("authorization")
                        .map(|v| v.to_str().unwrap_or("").to_owned())
                        .unwrap_or_default();
                    // Temporary keys identify the assumed role; anything else the IAM user.
                    let (arn, user) = if auth.contains("Credential=ASIA") {
                        (
                            format!("arn:aws:sts::{ACCOUNT}:assumed-role/conform-test-role/flow"),
                            "AROA3XFRBF535EXAMPLE1:flow".to_owned(),
                        )
                    } else {
                        (
                            format!("arn:aws:iam::{ACCOUNT}:user/conform"),
                            "AIDAEXAMPLECONFORM000".to_owned(),
                        )
                    };
                    let fields = match self.deviation {
                        Deviation::MissingElement => {
                            format!("<Arn>{arn}</Arn><UserId>{user}</UserId>")
                        }
                        Deviation::ReorderedElements => format!(
                            "<Account>{ACCOUNT}</Account><Arn>{arn}</Arn><UserId>{user}</UserId>"
                        ),
                        _ => format!(
                            "<Arn>{arn}</Arn><UserId>{user}</UserId><Account>{ACCOUNT}</Account>"
                        ),
                    };
                    (
                        200,
                        format!(
                            "<GetCallerIdentityResponse xmlns=\"{ns}\"><GetCallerIdentityResult>{fields}</GetCallerIdentityResult><ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></GetCallerIdentityResponse>",
                            request_id()
                        ),
                    )
                }
                "AssumeRole" => {
                    let session = get("RoleSessionName").unwrap_or_default();
                    if session.chars().count() < 2 {
                        let bound = if self.deviation == Deviation::ChangedMessage {
                            3
                        } else {
                            2
                        };
                        let status = if self.deviation == Deviation::WrongStatus {
                            403
                        } else {
                            400
                        };
                        (
                            status,
                            error(
                                "ValidationError",
                                &format!(
                                    "1 validation error detected: Value '{}' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to {bound}",
                                    escape(&session)
                                ),
                            ),
                        )
                    } else {
                        let duration: i64 = get("DurationSeconds")
                            .and_then(|d| d.parse().ok())
                            .unwrap_or(3600);
                        let exp =
                            time::OffsetDateTime::now_utc() + time::Duration::seconds(duration);
                        let exp = conform::query::iso8601(exp);
                        let role = get("RoleArn")
                            .unwrap_or_default()
                            .rsplit('/')
                            .next()
                            .unwrap_or("")
                            .to_owned();
                        let (secret, token) = match &self.deviation {
                            Deviation::LeakyCredentials(c) => (c.clone(), c.clone()),
                            _ => (
                                "abcdefghijklmnopqrstuvwxyz0123456789ABCD".to_owned(),
                                "FwoGZXIvYXdzEXAMPLETOKEN+abc/def==".to_owned(),
                            ),
                        };
                        (
                            200,
                            format!(
                                "<AssumeRoleResponse xmlns=\"{ns}\"><AssumeRoleResult><AssumedRoleUser><Arn>arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}</Arn><AssumedRoleId>AROA3XFRBF535EXAMPLE1:{session}</AssumedRoleId></AssumedRoleUser><Credentials><AccessKeyId>ASIA3XFRBF535EXAMPLE</AccessKeyId><SecretAccessKey>{secret}</SecretAccessKey><SessionToken>{token}</SessionToken><Expiration>{exp}</Expiration></Credentials><PackedPolicySize>7</PackedPolicySize></AssumeRoleResult><ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></AssumeRoleResponse>",
                                request_id()
                            ),
                        )
                    }
                }
                // Just enough IAM for setup and cleanup steps.
                "CreateRole" | "DeleteRole" => iam(&action, &get("RoleName").unwrap_or_default()),
                other => (
                    400,
                    error(
                        "InvalidAction",
                        &format!("Could not find operation {other} for version 2011-06-15"),
                    ),
                ),
            }
        };
        let echo = self.deviation == Deviation::EchoRequest
            || self.deviation == Deviation::EchoAction(action_name(&req.body))
            || (self.deviation == Deviation::EchoSessionRequests
                && req.headers.get("x-amz-security-token").is_some());
        if echo {
            let mut echo = String::new();
            for (k, v) in req.headers.iter() {
                echo.push_str(&format!("{k}: {} ", v.to_str().unwrap_or("")));
            }
            echo.push_str(&String::from_utf8_lossy(&req.body));
            body = error("Echo", &escape(&echo));
            status = 400;
        }
        let mut t = match self.deviation {
            Deviation::Html500 => ResponseTemplate::new(500).set_body_raw(
                "<html><body><h1>500 Internal Server Error</h1><p>upstream crashed</body></html>",
                "text/html",
            ),
            _ => ResponseTemplate::new(status).set_body_raw(body, "text/xml"),
        };
        if let Deviation::Slow(d) = self.deviation {
            t = t.set_delay(d);
        }
        t
    }
}

pub async fn start(deviation: Deviation) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(FakeSts { deviation })
        .mount(&server)
        .await;
    server
}

/// The `conform` binary on a project, with no AWS keys from the environment.
pub fn conform_at(root: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_conform"));
    cmd.arg("--root")
        .arg(root)
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        // A test run on GitHub Actions must not annotate it or write its job summary.
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY");
    cmd
}

/// What `cargo test` installs the first time it runs, each under a switch that skips the
/// tests needing it (the README lists them, with their sizes).
#[derive(Clone, Copy, Debug)]
pub enum Install {
    /// moto's server in target/moto-venv (scripts/moto-venv.sh, from PyPI).
    Moto,
    /// boto3 and the AWS CLI v1 in target/sdk-venv (scripts/sdk-venv.sh, from PyPI).
    SdkVenv,
    /// The JavaScript SDK v3 in target/sdk-node (scripts/sdk-node.sh, from npm).
    SdkNode,
    /// Debian's chromium package (scripts/chromium.sh, through apt).
    Chromium,
}

impl Install {
    pub fn switch(self) -> &'static str {
        match self {
            Install::Moto => "CONFORM_SKIP_MOTO",
            Install::SdkVenv => "CONFORM_SKIP_SDK_VENV",
            Install::SdkNode => "CONFORM_SKIP_SDK_NODE",
            Install::Chromium => "CONFORM_SKIP_CHROMIUM",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Install::Moto => "moto (scripts/moto-venv.sh)",
            Install::SdkVenv => "boto3 and the AWS CLI (scripts/sdk-venv.sh)",
            Install::SdkNode => "the JavaScript SDK (scripts/sdk-node.sh)",
            Install::Chromium => "Chromium (scripts/chromium.sh)",
        }
    }
}

/// Whether the calling test is to be skipped because its switch is set to 1. Says so on
/// stderr itself rather than through `eprintln!`, which the test harness captures and
/// shows only for a failing test: a skip must be seen, or it reads as a pass.
pub fn skipped(install: Install) -> bool {
    use std::io::Write;
    if std::env::var(install.switch()).as_deref() != Ok("1") {
        return false;
    }
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a test");
    let _ = writeln!(
        std::io::stderr(),
        "skipped {test}: {}=1 leaves out {}",
        install.switch(),
        install.what()
    );
    true
}

pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh project in a temp dir with the repo's models and the given scenario files
/// (`(relative path, text)`), and no snapshots.
pub fn project(files: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf) {
    project_named("", files)
}

/// `project` in a temporary directory whose name starts with `prefix`.
pub fn project_named(prefix: &str, files: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::Builder::new()
        .prefix(if prefix.is_empty() { ".tmp" } else { prefix })
        .tempdir()
        .expect("a temp dir");
    let root = dir.path().to_owned();
    let models = root.join("models");
    std::fs::create_dir_all(&models).unwrap();
    for entry in std::fs::read_dir(repo().join("models")).unwrap() {
        let p = entry.unwrap().path();
        std::fs::copy(&p, models.join(p.file_name().unwrap())).unwrap();
    }
    for (rel, text) in files {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    (dir, root)
}

/// Every file below `dir`.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.path().is_dir() {
            out.extend(walk(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out
}

/// The starter scenarios and their snapshots, kept in tests/fixtures so that the harness's
/// own tests do not move with the corpus.
pub fn starter() -> PathBuf {
    repo().join("tests/fixtures/starter")
}

/// The starter project in place: fixture scenarios and snapshots, the repo's models.
pub fn starter_layout() -> conform::suite::Layout {
    conform::suite::Layout {
        scenarios: starter().join("scenarios"),
        snapshots: starter().join("snapshots"),
        models: repo().join("models"),
    }
}

/// A writable copy of the starter project in a temp dir.
pub fn starter_copy() -> (tempfile::TempDir, PathBuf) {
    let (dir, root) = project(&[]);
    for sub in ["scenarios", "snapshots"] {
        copy_dir(&starter().join(sub), &root.join(sub));
    }
    (dir, root)
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

/// The `Action` of an awsQuery form body ("" without one).
pub fn action(body: &[u8]) -> String {
    form_urlencoded::parse(body)
        .find(|(k, _)| k == "Action")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

fn action_name(body: &[u8]) -> &'static str {
    match action(body).as_str() {
        "AssumeRole" => "AssumeRole",
        "GetCallerIdentity" => "GetCallerIdentity",
        _ => "",
    }
}

/// The four report files a run can write, in the order of `REPORT_FLAGS`.
pub const REPORT_FLAGS: [&str; 4] = [
    "--report-json",
    "--report-junit",
    "--report-md",
    "--report-html",
];

/// `conform run` of the project at `root` against `endpoint`, writing every report under
/// `root/reports/` (run.json, run.xml, run.md, run.html), with the example keys and `.snap.new`
/// files on, as a developer's checkout runs it.
pub fn run_reporting(root: &Path, endpoint: &str) -> (std::process::Output, [PathBuf; 4]) {
    let dir = root.join("reports");
    std::fs::create_dir_all(&dir).unwrap();
    let files = ["run.json", "run.xml", "run.md", "run.html"].map(|f| dir.join(f));
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_conform"));
    cmd.arg("--root")
        .arg(root)
        .args(["run", "--endpoint", endpoint]);
    for (flag, file) in REPORT_FLAGS.iter().zip(&files) {
        cmd.arg(flag).arg(file);
    }
    let out = cmd
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env("CI", "")
        .output()
        .expect("conform runs");
    (out, files)
}

/// Waits until a server on `port` answers HTTP (not merely accepts connections), for at most
/// 30 s, failing the test with `what` did not start.
pub fn wait_for_http(port: u16, what: &str) {
    use std::io::{Read, Write};
    let start = std::time::Instant::now();
    let answers = || {
        let Ok(mut c) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
            return false;
        };
        let _ = c.set_read_timeout(Some(std::time::Duration::from_secs(2)));
        let mut buf = [0u8; 12];
        c.write_all(b"GET / HTTP/1.0\r\n\r\n").is_ok()
            && c.read(&mut buf)
                .is_ok_and(|n| n >= 5 && buf.starts_with(b"HTTP/"))
    };
    while !answers() {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(30),
            "{what} did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// An IAM call signed with the documentation's example key, sent straight to the emulator at
/// `url` (no harness in between): its status and body.
pub fn signed_iam_call(url: &str, body: &str) -> (u16, String) {
    use conform::sign::{self, Credentials};
    let creds = Credentials {
        access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
        secret_access_key: "x".into(),
        session_token: None,
    };
    let host = url.trim_start_matches("http://").to_owned();
    let mut req = conform::transport::HttpRequest {
        method: "POST".into(),
        url: format!("{url}/"),
        headers: vec![
            ("host".into(), host),
            (
                "content-type".into(),
                "application/x-www-form-urlencoded".into(),
            ),
        ],
        body: body.as_bytes().to_vec(),
    };
    let signed = sign::sign_headers(
        &creds,
        "us-east-1",
        "iam",
        &req,
        std::time::SystemTime::now(),
    )
    .unwrap();
    req.headers.extend(signed);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut b = reqwest::Client::new().post(&req.url).body(req.body.clone());
        for (k, v) in &req.headers {
            b = b.header(k, v);
        }
        let answer = b.send().await.unwrap();
        (answer.status().as_u16(), answer.text().await.unwrap())
    })
}

/// Stops a server the test started: SIGTERM, so it can tidy up (moto writes its state),
/// then SIGKILL after 3 s.
pub fn stop(child: &mut std::process::Child) {
    // SAFETY: signalling the child we started.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let start = std::time::Instant::now();
    while start.elapsed() < std::time::Duration::from_secs(3) {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}
