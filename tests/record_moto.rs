//! Recording the whole corpus against moto (started here, from a venv the project's script
//! creates): every snapshot written with no secret, no account id and no key, and every
//! role the setup steps made deleted again, also when the run is interrupted.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};

const CANARY_SECRET: &str = "CANARYmotoRECORDsecret/never+on=disk00000";

/// moto on a free loopback port, stopped (SIGTERM, then SIGKILL) when dropped.
struct Moto {
    child: Child,
    url: String,
}

impl Moto {
    fn start() -> Moto {
        let root = common::repo();
        // Both tests need the venv: install it once, not twice at the same time.
        static VENV: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        let ok = *VENV.get_or_init(|| {
            Command::new("bash")
                .arg(root.join("scripts/moto-venv.sh"))
                .status()
                .is_ok_and(|s| s.success())
        });
        assert!(ok, "scripts/moto-venv.sh could not install moto");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(root.join("target/moto-venv/bin/moto_server"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        common::wait_for_http(port, "moto");
        Moto {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }

    /// The IAM roles moto holds now.
    fn roles(&self) -> Vec<String> {
        let text = self.iam("Action=ListRoles&Version=2010-05-08");
        text.split("<RoleName>")
            .skip(1)
            .filter_map(|s| s.split('<').next())
            .map(str::to_owned)
            .collect()
    }

    /// An IAM call, signed, straight to moto.
    fn iam(&self, body: &str) -> String {
        common::signed_iam_call(&self.url, body).1
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        common::stop(&mut self.child);
    }
}

fn corpus_copy() -> (tempfile::TempDir, std::path::PathBuf) {
    let (dir, root) = common::project(&[]);
    for sub in ["scenarios", "snapshots"] {
        common::copy_dir(&common::repo().join(sub), &root.join(sub));
    }
    (dir, root)
}

fn record(root: &Path, url: &str, extra: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_conform"));
    cmd.arg("--root")
        .arg(root)
        // moto needs no time to propagate what setup made: the refusals record mode asks
        // again (NoSuchEntity after a setup step) come back in milliseconds, not seconds.
        .args(["record", "--target", url, "--jobs", "4", "--rate", "1000"])
        .args(["--retry-base-ms", "10"])
        .args(extra);
    cmd.env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", CANARY_SECRET)
        .env_remove("AWS_SESSION_TOKEN");
    cmd
}

#[test]
fn the_whole_corpus_records_against_moto_with_no_leak_and_no_leftover() {
    if common::skipped(common::Install::Moto) {
        return;
    }
    let moto = Moto::start();
    let (_dir, root) = corpus_copy();
    // As a user tries record mode: the project's own scenarios, snapshots written elsewhere.
    let out_dir = tempfile::tempdir().unwrap();
    let out = record(&root, &moto.url, &[])
        .arg("--snapshots")
        .arg(out_dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    // Cases not recorded make the recording fail, as a user must notice them.
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cases = conform::suite::Suite::load(&conform::suite::Layout::at(&root))
        .unwrap()
        .cases
        .len();
    // What moto cannot do is the moto gate's data: the setups its baseline lists as refused,
    // and the cases whose checked step it answers with another status, without what a later
    // step needs. Exactly those are not recorded, each for that reason.
    let baseline = conform::input::baseline(&common::repo().join("baselines/moto.toml")).unwrap();
    let everything = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let not_recorded: Vec<&str> = everything
        .lines()
        .filter_map(|l| l.strip_prefix("NOT RECORDED "))
        .collect();
    for line in &not_recorded {
        let (case, why) = line.split_once(": ").unwrap_or((line, ""));
        let entry = baseline.case(case).unwrap_or_else(|| {
            panic!("{case} is not recorded and moto's baseline knows nothing of it: {line}")
        });
        let expected = match &entry.setup_refused {
            Some(refused) => why.ends_with(refused.as_str()),
            // A capture that found nothing: moto answered the step with another status, or
            // without the element the capture takes (GetGroup without a Marker).
            None => {
                why.contains("which capture")
                    && entry.deviations.iter().any(|d| {
                        d.kind == conform::deviation::Kind::Status
                            || (d.kind == conform::deviation::Kind::MissingElement && {
                                let below_root = d.path.split_once('/').map_or(&*d.path, |x| x.1);
                                why.contains(&format!("without `{below_root}`"))
                            })
                    })
            }
        };
        assert!(
            expected,
            "{case} is not recorded for a reason moto's baseline does not give: {line}"
        );
    }
    let refused = baseline
        .cases
        .iter()
        .filter(|c| c.setup_refused.is_some())
        .count();
    assert!(
        not_recorded.len() >= refused,
        "{} not recorded, {refused} setups refused in the baseline: {not_recorded:#?}",
        not_recorded.len()
    );
    let recorded = cases - not_recorded.len();
    assert!(
        stdout.contains(&format!(
            "recorded {recorded} snapshots, {} cases not recorded, 0 refused for a secret",
            not_recorded.len()
        )),
        "{stdout}"
    );
    let key = regex::Regex::new(r"(AKIA|ASIA)[A-Z0-9]{16}").unwrap();
    // moto's answers are not AWS's: no scenario file is touched, and the headers say so.
    assert!(
        stdout.contains("scenario files left as they are: "),
        "{stdout}"
    );
    for f in common::walk(&root.join("scenarios")) {
        let rel = f.strip_prefix(&root).unwrap();
        assert_eq!(
            std::fs::read(&f).unwrap(),
            std::fs::read(common::repo().join(rel)).unwrap(),
            "{} was rewritten",
            rel.display()
        );
    }
    for f in common::walk(&root.join("snapshots")) {
        let rel = f.strip_prefix(&root).unwrap();
        assert_eq!(
            std::fs::read(&f).unwrap(),
            std::fs::read(common::repo().join(rel)).unwrap(),
            "{} was written although --snapshots points elsewhere",
            rel.display()
        );
    }
    let written: Vec<_> = common::walk(out_dir.path())
        .into_iter()
        .filter(|f| f.extension().is_some_and(|e| e == "snap"))
        .collect();
    assert_eq!(
        written.len(),
        recorded,
        "one snapshot per recorded case in {}",
        out_dir.path().display()
    );
    for f in written {
        let t = std::fs::read_to_string(&f).unwrap();
        assert!(!t.contains(CANARY_SECRET), "{}", f.display());
        assert!(
            !t.contains("123456789012"),
            "an account id in {}",
            f.display()
        );
        assert!(
            key.find_iter(&t).all(|m| m.as_str().contains("EXAMPLE")),
            "a key in {}",
            f.display()
        );
        assert!(
            t.contains(", answers recorded against http://127.0.0.1:")
                && t.contains(" (us-east-1), not AWS, on "),
            "{}",
            f.display()
        );
        assert!(
            !t.contains("provenance: recorded against"),
            "{}",
            f.display()
        );
    }
    assert!(
        moto.roles().iter().all(|r| !r.starts_with("conform-")),
        "setup roles left behind: {:?}",
        moto.roles()
    );
}

#[test]
fn an_interrupted_recording_still_tears_down() {
    if common::skipped(common::Install::Moto) {
        return;
    }
    use std::io::{BufRead, BufReader};
    let moto = Moto::start();
    let (_dir, root) = corpus_copy();
    let mut child = record(
        &root,
        &moto.url,
        &[
            "--filter",
            "assume_role_untrusted",
            "--filter",
            "assume_role_duration",
            "--filter",
            "saml_",
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    if !first.starts_with("recording as") {
        let mut err = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
        panic!("the recording did not start: {first}\n{err}");
    }
    // SAFETY: signalling the child we started.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = child.wait().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    assert!(
        status.code().is_some(),
        "it exits, not killed by the signal: {rest}"
    );
    assert!(
        moto.roles().iter().all(|r| !r.starts_with("conform-")),
        "roles left after Ctrl-C: {:?}\n{rest}",
        moto.roles()
    );
}

#[test]
fn cleanup_deletes_what_a_recording_left_and_nothing_else() {
    if common::skipped(common::Install::Moto) {
        return;
    }
    let moto = Moto::start();
    // A case whose setup has no cleanup leaves its role behind, tagged by the recording.
    let yaml = r#"
cases:
  - id: leaves_a_role
    kind: flow
    provenance: inferred
    description: Creates a role and forgets it.
    steps:
      - service: iam
        operation: CreateRole
        setup: true
        params: {RoleName: 'conform-{{run_id}}-left', AssumeRolePolicyDocument: '{"Version":"2012-10-17","Statement":[]}'}
      - operation: GetCallerIdentity
"#;
    let (_dir, root) = common::project(&[("scenarios/sts/GetCallerIdentity/left.yaml", yaml)]);
    let out = record(&root, &moto.url, &[]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // One made by hand, without the tag, that cleanup must not touch.
    moto.iam("Action=CreateRole&Version=2010-05-08&RoleName=conform-by-hand&AssumeRolePolicyDocument=%7B%7D");
    let left: Vec<String> = moto
        .roles()
        .into_iter()
        .filter(|r| r.ends_with("-left"))
        .collect();
    assert_eq!(left.len(), 1, "{:?}", moto.roles());

    let cleanup = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_conform"))
            .arg("--root")
            .arg(&root)
            .args(["cleanup", "--target", &moto.url])
            .args(extra)
            .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
            .env("AWS_SECRET_ACCESS_KEY", "x")
            .output()
            .unwrap()
    };
    let dry = cleanup(&["--dry-run"]);
    let dry_out = String::from_utf8_lossy(&dry.stdout).into_owned();
    assert!(
        dry_out.contains(&format!("would delete role/{}", left[0])),
        "{dry_out}"
    );
    assert!(moto.roles().contains(&left[0]), "a dry run deletes nothing");

    let done = cleanup(&[]);
    let out = String::from_utf8_lossy(&done.stdout).into_owned();
    assert_eq!(done.status.code(), Some(0), "{out}");
    assert!(out.contains(&format!("deleted role/{}", left[0])), "{out}");
    assert!(out.contains("1 deleted, 0 failed"), "{out}");
    let roles = moto.roles();
    assert!(!roles.contains(&left[0]), "{roles:?}");
    assert!(
        roles.contains(&"conform-by-hand".to_owned()),
        "an untagged role stays: {roles:?}"
    );
}
