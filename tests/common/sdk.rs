//! What the SDK gates share: the real `conform serve` binary, started with no options; the
//! STS documented examples as printed (tests/sdk/examples.json); a clean environment for an
//! SDK run as a child process; and the verdict, which goes through every example and fails
//! once, listing each step that did not get what the example expects.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{Map, Value};

pub use conform::target::{EXAMPLE_ACCESS_KEY_ID, EXAMPLE_SECRET_ACCESS_KEY};

/// The region every gate's client uses.
pub const REGION: &str = "us-east-1";

/// How long `conform serve` may take to load the suite and print its URL.
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// What `conform serve` wrote to stderr (unmatched requests) is kept up to this size.
const STDERR_CAP: usize = 1 << 20;

/// The `conform serve` binary of this build, running on a free loopback port; killed when
/// dropped, which happens also when the test panics.
pub struct Serve {
    child: Child,
    url: String,
    stderr: Arc<Mutex<String>>,
}

impl Serve {
    /// Starts `conform --root <repo> serve --port 0` and waits for the line that names its
    /// URL. `CONFORM_SDK_SERVE_ARGS` (whitespace-separated, for debugging the gates only)
    /// is appended to that command line.
    pub fn start() -> Serve {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_conform"));
        cmd.arg("--root")
            .arg(super::repo())
            .args(["serve", "--port", "0"]);
        if let Ok(extra) = std::env::var("CONFORM_SDK_SERVE_ARGS") {
            cmd.args(extra.split_whitespace());
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        {
            use std::os::unix::process::CommandExt;
            // SAFETY: prctl is async-signal-safe and touches no memory of the parent. The
            // server then dies with the test process even if that is killed outright.
            unsafe {
                cmd.pre_exec(|| {
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                    Ok(())
                });
            }
        }
        let mut child = cmd.spawn().expect("the conform binary starts");

        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err_pipe = child.stderr.take().expect("piped stderr");
        let sink = Arc::clone(&stderr);
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = err_pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let mut s = sink.lock().unwrap();
                if s.len() < STDERR_CAP {
                    s.push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            }
        });

        let out_pipe = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel::<String>();
        std::thread::spawn(move || {
            for line in BufReader::new(out_pipe).lines() {
                let Ok(line) = line else { break };
                // After the URL line nobody listens: keep draining so the server never
                // blocks on a full pipe.
                let _ = tx.send(line);
            }
        });

        let mut serve = Serve {
            child,
            url: String::new(),
            stderr,
        };
        let deadline = Instant::now() + START_TIMEOUT;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(url) = url_in(&line) {
                        serve.url = url;
                        eprintln!("{line}");
                        return serve;
                    }
                    seen.push(line);
                }
                Err(e) => {
                    let status = serve.child.try_wait().ok().flatten();
                    std::thread::sleep(Duration::from_millis(200));
                    panic!(
                        "conform serve did not print its URL ({}; exit status {status:?})\nstdout:\n{}\nstderr:\n{}",
                        match e {
                            mpsc::RecvTimeoutError::Timeout =>
                                format!("nothing after {START_TIMEOUT:?}"),
                            mpsc::RecvTimeoutError::Disconnected => "it closed stdout".into(),
                        },
                        seen.join("\n"),
                        serve.stderr()
                    );
                }
            }
        }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> &str {
        &self.url
    }

    /// What the server wrote to stderr so far (its diagnostics of unmatched requests).
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The first `http://127.0.0.1:PORT` in a line.
fn url_in(line: &str) -> Option<String> {
    let at = line.find("http://127.0.0.1:")?;
    let url: String = line[at..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    let url = url.trim_end_matches(|c: char| !c.is_ascii_digit());
    (url.len() > "http://127.0.0.1:".len()).then(|| url.to_owned())
}

/// tests/sdk/examples.json
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Examples {
    pub about: String,
    pub examples: Vec<Example>,
}

/// One documented example: its steps run in order.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Example {
    pub id: String,
    pub source: String,
    pub steps: Vec<Step>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// The STS operation, as the API names it (`AssumeRole`).
    pub op: String,
    /// The parameters as printed, by their API names.
    #[serde(default)]
    pub params: Map<String, Value>,
    #[serde(default)]
    pub creds: Creds,
    pub expect: Expect,
}

/// Which credentials a step is sent with.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Creds {
    /// The client's own keys (AWS's documented example keys).
    #[default]
    Own,
    /// The credentials the previous step returned.
    Previous,
    /// Not signed at all.
    Unsigned,
}

impl Creds {
    fn label(self) -> &'static str {
        match self {
            Creds::Own => "own keys",
            Creds::Previous => "the previous step's credentials",
            Creds::Unsigned => "unsigned",
        }
    }
}

/// What a step must get: the typed service error with this code, or success (naming this
/// ARN and account when given).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    pub arn: Option<String>,
    pub account: Option<String>,
    pub error: Option<String>,
}

pub fn examples_path() -> PathBuf {
    super::repo().join("tests/sdk/examples.json")
}

pub fn examples() -> Vec<Example> {
    let path = examples_path();
    let text = std::fs::read_to_string(&path).expect("tests/sdk/examples.json is readable");
    let all: Examples = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{}: not the examples' format: {e}", path.display()));
    assert!(!all.examples.is_empty(), "{}: no examples", path.display());
    all.examples
}

/// What the SDK did with one step, as the gates' drivers report it (JSON, `outcome` tag).
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Answer {
    /// The call succeeded: the ARN it names (AssumedRoleUser.Arn, or GetCallerIdentity's
    /// Arn), GetCallerIdentity's Account, and the access key id of credentials it returned.
    Ok {
        arn: Option<String>,
        account: Option<String>,
        access_key_id: Option<String>,
    },
    /// The SDK raised a service error with this AWS error code; `typed` says whether it was
    /// the SDK's own type for that code (its modelled exception where the model has one,
    /// its generic service error otherwise); `what` is its type and message.
    Error {
        code: String,
        typed: bool,
        what: String,
    },
    /// Anything else: refused to send it, could not parse the answer, a transport error, an
    /// error without a code.
    Broken { detail: String },
    /// Not sent, because an earlier step gave it nothing to send with.
    Skipped { detail: String },
}

/// One step as a driver reports it.
#[derive(Debug, Clone, Deserialize)]
pub struct Record {
    pub example: String,
    pub step: usize,
    pub answer: Answer,
    /// The access key id in the Authorization header the request went with, `""` when it
    /// went unsigned; absent when the driver cannot see the request.
    #[serde(default)]
    pub key: Option<String>,
}

/// The records a driver wrote as a JSON array.
pub fn read_records(path: &Path) -> Vec<Record> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: the driver wrote no report: {e}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{}: not a report of records: {e}\n{text}", path.display()))
}

/// The access key id of a SigV4 Authorization header (`Credential=AKIA.../date/...`).
pub fn key_of_authorization(header: &str) -> String {
    header
        .split("Credential=")
        .nth(1)
        .and_then(|c| c.split('/').next())
        .unwrap_or("(an Authorization header without a credential)")
        .to_owned()
}

/// At most `max` bytes of `text`, cut at a character boundary.
fn clip(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut cut = max;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{} [... {} more bytes]", &text[..cut], text.len() - cut)
}

fn describe(answer: &Answer) -> String {
    clip(&describe_all(answer), 800)
}

fn describe_all(answer: &Answer) -> String {
    match answer {
        Answer::Ok {
            arn,
            account,
            access_key_id,
        } => {
            let mut parts = vec!["success".to_owned()];
            if let Some(a) = arn {
                parts.push(format!("ARN {a}"));
            }
            if let Some(a) = account {
                parts.push(format!("account {a}"));
            }
            if let Some(k) = access_key_id {
                parts.push(format!("credentials {k}"));
            }
            parts.join(", ")
        }
        Answer::Error { code, typed, what } => format!(
            "{} service error {code} ({what})",
            if *typed { "the typed" } else { "an untyped" }
        ),
        Answer::Broken { detail } => format!("no service answer the SDK could use: {detail}"),
        Answer::Skipped { detail } => format!("not sent: {detail}"),
    }
}

fn expected(step: &Step) -> String {
    match &step.expect.error {
        Some(code) => format!("the typed service error {code}"),
        None => {
            let mut parts = vec!["success".to_owned()];
            if let Some(a) = &step.expect.arn {
                parts.push(format!("ARN {a}"));
            }
            if let Some(a) = &step.expect.account {
                parts.push(format!("account {a}"));
            }
            parts.join(", ")
        }
    }
}

/// Why a step's record does not meet its expectation, if it does not.
fn check(step: &Step, record: &Record, previous_key: Option<&str>) -> Option<String> {
    let mut why = Vec::new();
    match (&step.expect.error, &record.answer) {
        (Some(want), Answer::Error { code, typed, .. }) => {
            if code != want {
                why.push(format!("the error code is {code}, not {want}"));
            } else if !typed {
                why.push("the SDK did not raise its typed error for it".to_owned());
            }
        }
        (Some(_), _) => why.push("no service error".to_owned()),
        (None, Answer::Ok { arn, account, .. }) => {
            if let Some(want) = &step.expect.arn
                && arn.as_deref() != Some(want)
            {
                why.push(format!(
                    "the ARN is {}",
                    arn.as_deref().unwrap_or("missing")
                ));
            }
            if let Some(want) = &step.expect.account
                && account.as_deref() != Some(want)
            {
                why.push(format!(
                    "the account is {}",
                    account.as_deref().unwrap_or("missing")
                ));
            }
        }
        (None, _) => why.push("it did not succeed".to_owned()),
    }
    match (step.creds, record.key.as_deref()) {
        (_, None) => {}
        (Creds::Unsigned, Some("")) => {}
        (Creds::Unsigned, Some(k)) => why.push(format!("it went signed with {k}")),
        (_, Some("")) => why.push("it went unsigned".to_owned()),
        (Creds::Own, Some(k)) if k != EXAMPLE_ACCESS_KEY_ID => why.push(format!(
            "it went signed with {k}, not the client's own keys"
        )),
        (Creds::Previous, Some(k)) if previous_key.is_some_and(|p| p != k) => why.push(format!(
            "it went signed with {k}, not the previous step's {}",
            previous_key.unwrap_or_default()
        )),
        _ => {}
    }
    (!why.is_empty()).then(|| why.join("; "))
}

/// Judges every step of every example against what the SDK reported, and fails once with
/// every step that went wrong (and what `conform serve` said about the requests it could
/// not match).
pub fn verdict(sdk: &str, examples: &[Example], records: &[Record], serve: &Serve, took: Duration) {
    let by_step: BTreeMap<(&str, usize), &Record> = records
        .iter()
        .map(|r| ((r.example.as_str(), r.step), r))
        .collect();
    let mut failures = Vec::new();
    let mut passed = Vec::new();
    let mut steps = 0;
    for ex in examples {
        let mut ok = true;
        let mut previous_key: Option<String> = None;
        for (i, step) in ex.steps.iter().enumerate() {
            steps += 1;
            let label = format!(
                "{} step {} {} ({})",
                ex.id,
                i + 1,
                step.op,
                step.creds.label()
            );
            let Some(record) = by_step.get(&(ex.id.as_str(), i)) else {
                failures.push(format!(
                    "{label}: expected {}, but the driver reported nothing for it",
                    expected(step)
                ));
                ok = false;
                continue;
            };
            if let Some(why) = check(step, record, previous_key.as_deref()) {
                failures.push(format!(
                    "{label}: {why}\n      expected: {}\n      got:      {}",
                    expected(step),
                    describe(&record.answer)
                ));
                ok = false;
            }
            previous_key = match &record.answer {
                Answer::Ok { access_key_id, .. } => access_key_id.clone(),
                _ => None,
            };
        }
        if ok {
            passed.push(ex.id.as_str());
        }
    }
    eprintln!(
        "{sdk}: {} of {} examples passed in {took:.1?}: {}",
        passed.len(),
        examples.len(),
        passed.join(", ")
    );
    if failures.is_empty() {
        return;
    }
    let log = clip(&serve.stderr(), 8_000);
    panic!(
        "{sdk}: {} of {steps} steps of the documented examples did not get what they expect \
         ({} of {} examples passed: {}):\n  - {}\n\nconform serve's stderr:\n{}",
        failures.len(),
        passed.len(),
        examples.len(),
        if passed.is_empty() {
            "none".to_owned()
        } else {
            passed.join(", ")
        },
        failures.join("\n  - "),
        if log.trim().is_empty() {
            "(nothing)"
        } else {
            log.as_str()
        }
    );
}

/// A scratch directory holding empty shared config and credentials files, so an SDK in a
/// child process reads no profile of this machine.
pub struct CleanEnv {
    pub dir: tempfile::TempDir,
}

impl CleanEnv {
    /// `config` is the text of the AWS config file (the `[default]` profile's settings).
    pub fn new(config: &str) -> CleanEnv {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config"), config).unwrap();
        std::fs::write(dir.path().join("credentials"), "").unwrap();
        CleanEnv { dir }
    }

    /// Removes every `AWS_*` variable from `cmd`'s environment and points it at the empty
    /// files, the example keys and the region.
    pub fn apply<'a>(&self, cmd: &'a mut Command) -> &'a mut Command {
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("AWS_") {
                cmd.env_remove(k);
            }
        }
        cmd.env("AWS_CONFIG_FILE", self.dir.path().join("config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                self.dir.path().join("credentials"),
            )
            .env("AWS_ACCESS_KEY_ID", EXAMPLE_ACCESS_KEY_ID)
            .env("AWS_SECRET_ACCESS_KEY", EXAMPLE_SECRET_ACCESS_KEY)
            .env("AWS_DEFAULT_REGION", REGION)
            .env("AWS_REGION", REGION)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("HOME", self.dir.path())
    }

    /// Runs one of the boto3 drivers (`tests/sdk/SCRIPT`) with the venv's python in this
    /// environment, and fails the test with what it printed if it fails.
    pub fn boto3_driver(&self, script: &str, args: &[&Path]) {
        let root = crate::common::repo();
        let out = self
            .apply(&mut Command::new(root.join("target/sdk-venv/bin/python")))
            .arg(root.join("tests/sdk").join(script))
            .args(args)
            .output()
            .expect("the venv's python runs");
        assert!(
            out.status.success(),
            "the boto3 driver failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Runs one of the project's install scripts (`scripts/NAME`) and fails the test if it fails.
pub fn install(script: &str) {
    let root = super::repo();
    let status = Command::new("bash")
        .arg(root.join("scripts").join(script))
        .status()
        .expect("bash runs");
    assert!(status.success(), "scripts/{script} failed ({status})");
}
