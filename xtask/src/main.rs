//! Repository tasks: `cargo xtask conformance | bench | expect`.

mod reference;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::Arc;

use anyhow::{Context, bail};

const USAGE: &str = "usage:
  cargo xtask conformance [--endpoint URL] [--jobs N] [--var NAME=VALUE]... [-- FILTER...]
      run the scenarios against an endpoint (moto, LocalStack, your emulator, AWS), or
      without --endpoint against the built-in replay server
  cargo xtask record --target aws|URL [--allow-aws] [--region R] [--filter TEXT]... [--dry-run]
      record fresh snapshots (conform record) into this checkout
  cargo xtask bench
      measure the harness's own cost per case against an in-process endpoint
  cargo xtask expect [--root DIR]
      write the missing snapshots of documented/inferred STS cases from the documented
      behaviour (never overwrites a snapshot; lists the cases it cannot answer)";

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run() -> anyhow::Result<ExitCode> {
    let mut args = std::env::args().skip(1);
    let task = args.next().unwrap_or_default();
    let rest: Vec<String> = args.collect();
    match task.as_str() {
        "conformance" => conformance(&rest),
        "bench" => cargo(&["bench", "-p", "conform", "--bench", "harness"]),
        "record" => {
            let root = workspace().display().to_string();
            let mut cmd: Vec<&str> = vec![
                "run", "--quiet", "-p", "conform", "--bin", "conform", "--", "--root", &root,
                "record",
            ];
            cmd.extend(rest.iter().map(String::as_str));
            cargo(&cmd)
        }
        "expect" => {
            let check = rest.iter().any(|a| a == "--check");
            let rest: Vec<&String> = rest.iter().filter(|a| *a != "--check").collect();
            let root = match rest.as_slice() {
                [flag, dir] if *flag == "--root" => PathBuf::from(dir),
                [] => workspace(),
                _ => bail!("usage: cargo xtask expect [--check] [--root DIR]"),
            };
            expect(&root, check)
        }
        "" | "help" | "-h" | "--help" => {
            println!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        other => bail!("unknown task `{other}`\n{USAGE}"),
    }
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_owned()
}

fn conformance(args: &[String]) -> anyhow::Result<ExitCode> {
    let mut endpoint = None;
    let mut target: Option<String> = None;
    let mut pass: Vec<String> = Vec::new();
    let mut filters: Vec<String> = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--endpoint" => endpoint = Some(it.next().context("--endpoint needs a URL")?.clone()),
            "--target" => target = Some(it.next().context("--target needs a name (moto)")?.clone()),
            "--update-baseline" => pass.push(a.clone()),
            "--jobs" | "--var" | "--region" | "--timeout" | "--retries" | "--shard"
            | "--report-json" | "--report-junit" | "--report-md" => {
                pass.push(a.clone());
                pass.push(
                    it.next()
                        .with_context(|| format!("{a} needs a value"))?
                        .clone(),
                );
            }
            "--" => filters.extend(it.by_ref().cloned()),
            other if other.starts_with("--") => bail!("unknown option `{other}`\n{USAGE}"),
            other => filters.push(other.to_owned()),
        }
    }
    // A target conform knows how to start: started here, stopped whatever happens.
    let _moto = match target.as_deref() {
        None | Some("replay") => None,
        Some("moto") => {
            let m = Moto::start()?;
            // A SIGINT or SIGTERM sent to xtask alone (not its process group) would skip
            // Drop: stop moto from the handler, then leave as an interrupted run does.
            let pid = m.child.id().to_string();
            ctrlc::set_handler(move || {
                let _ = Command::new("kill").args(["-TERM", &pid]).status();
                eprintln!("interrupted: moto stopped");
                std::process::exit(130);
            })
            .context("cannot install the Ctrl-C handler")?;
            endpoint = Some(m.url.clone());
            // moto's identity and baseline come from conform.toml; the port is ours.
            pass.extend(
                [
                    "--target", "moto",
                    // The snapshots say what AWS does: an emulator's answers are no candidates.
                    "--no-new",
                ]
                .map(String::from),
            );
            Some(m)
        }
        Some(other) => bail!(
            "unknown target `{other}`: conform starts `moto` itself; give any other endpoint with --endpoint URL"
        ),
    };
    // Without an endpoint, `conform run` starts the built-in replay server.
    let endpoint = endpoint.or_else(|| {
        std::env::var("CONFORM_ENDPOINT")
            .ok()
            .filter(|e| !e.is_empty())
    });
    let root = workspace();
    let mut cmd: Vec<String> = [
        "run", "--quiet", "-p", "conform", "--bin", "conform", "--", "--root",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    cmd.push(root.display().to_string());
    cmd.push("run".into());
    if let Some(e) = endpoint {
        cmd.extend(["--endpoint".into(), e]);
    }
    cmd.extend(pass);
    for f in filters {
        cmd.push("--filter".into());
        cmd.push(f);
    }
    let refs: Vec<&str> = cmd.iter().map(String::as_str).collect();
    cargo(&refs)
}

fn cargo(args: &[&str]) -> anyhow::Result<ExitCode> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(&cargo)
        .args(args)
        .current_dir(workspace())
        .status()
        .with_context(|| format!("cannot run {cargo}"))?;
    Ok(match status.code() {
        Some(0) => ExitCode::SUCCESS,
        Some(c) => ExitCode::from(u8::try_from(c).unwrap_or(1)),
        None => ExitCode::from(1),
    })
}

/// A case the documented-behaviour reference can answer: STS calls only, signed with the
/// target's keys or with keys captured earlier in the case, no setup or cleanup.
fn reference_can_answer(case: &conform::scenario::Case) -> bool {
    use conform::scenario::{CredentialsSpec, Request, Role};
    // An outcome that needs something only a real target has cannot be derived.
    if !case.requires.is_empty() {
        return false;
    }
    let mut captured: Vec<&str> = Vec::new();
    for step in &case.steps {
        if step.role != Role::Check
            || step.service != "sts"
            || !matches!(step.request, Request::Call { .. })
        {
            return false;
        }
        match &step.credentials {
            CredentialsSpec::Default | CredentialsSpec::Target => {}
            CredentialsSpec::Unsigned => return false,
            CredentialsSpec::Explicit {
                access_key_id,
                secret_access_key,
                session_token,
            } => {
                let all = [
                    Some(access_key_id),
                    Some(secret_access_key),
                    session_token.as_ref(),
                ];
                if !all
                    .into_iter()
                    .flatten()
                    .all(|t| t.variables().all(|v| captured.contains(&v)))
                {
                    return false;
                }
            }
        }
        captured.extend(step.captures.iter().map(|c| c.variable.as_str()));
    }
    true
}

fn expect(root: &Path, check: bool) -> anyhow::Result<ExitCode> {
    use conform::runner::{Outcome, Runner};
    use conform::suite::{Layout, Suite, SuiteError};
    use wiremock::{Mock, MockServer, matchers::any};

    let suite = match Suite::load(&Layout::at(root)) {
        Ok(s) => Arc::new(s),
        Err(SuiteError::Scenarios(d)) => {
            for x in d {
                eprintln!("{}", x.render());
            }
            bail!("fix the scenarios first");
        }
        Err(e) => return Err(e.into()),
    };
    // Writing: the cases with no snapshot. Checking: every case, so that a stored snapshot
    // that the documented behaviour would now answer differently is caught.
    let wanted: Vec<usize> = suite
        .cases
        .iter()
        .enumerate()
        .filter(|(_, c)| c.service == "sts" && (check || suite.snapshots.expected(c).is_none()))
        .map(|(i, _)| i)
        .collect();
    let (eligible, by_hand): (Vec<usize>, Vec<usize>) = wanted
        .into_iter()
        .partition(|i| reference_can_answer(&suite.cases[*i]));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let server = rt.block_on(MockServer::start());
    let mut target = conform::target::Target::at_endpoint(&server.uri(), "us-east-1", |_| None)?;
    for (k, v) in suite.default_vars() {
        target.vars.entry(k.clone()).or_insert_with(|| v.clone());
    }
    let reference = reference::ReferenceSts::new(
        suite.models["sts"].clone(),
        target.vars.clone(),
        target.credentials.access_key_id.clone(),
    );
    rt.block_on(Mock::given(any()).respond_with(reference).mount(&server));
    let secrets = conform::secrets::Secrets::new();
    let runner = Arc::new(Runner::new(Arc::clone(&suite), target, secrets.clone())?);
    let mut declined = Vec::new();
    let mut wrote = 0;
    let mut disagree = Vec::new();
    // One case at a time: the reference numbers the keys it hands out in order.
    for r in rt.block_on(runner.check_all(&eligible, 1, |_| {})) {
        let case = &suite.cases[r.index];
        match &r.outcome {
            _ if r.run.transcript.contains("HTTP 501") => {
                let why = r
                    .run
                    .transcript
                    .split("no documented answer (")
                    .nth(1)
                    .and_then(|s| s.split(')').next())
                    .unwrap_or("unknown");
                declined.push(format!("{} ({why})", case.test_name()));
            }
            Outcome::Fail { diff } => disagree.push(format!("{}\n{diff}", case.test_name())),
            Outcome::Pass => {}
            Outcome::Missing if !check => {
                let new =
                    conform::snapshot::write_new(&suite.snapshots, case, &r.run.transcript, |t| {
                        secrets.leaks_into(t)
                    })?;
                let path = new.with_extension("");
                std::fs::rename(&new, &path)?;
                wrote += 1;
            }
            other => declined.push(format!("{} ({other:?})", case.test_name())),
        }
    }
    if check {
        println!(
            "{} cases agree with the documented behaviour, {} differ; {} are answered by hand-written snapshots only",
            eligible.len() - declined.len() - disagree.len(),
            disagree.len(),
            declined.len() + by_hand.len()
        );
        for d in &disagree {
            println!("DIFFERS {d}");
        }
        return Ok(if disagree.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    for i in &by_hand {
        declined.push(format!(
            "{} (setup, raw or explicit-credential steps)",
            suite.cases[*i].test_name()
        ));
    }
    println!("wrote {wrote} snapshots from the documented behaviour");
    if !declined.is_empty() {
        println!("{} cases need a hand-written snapshot:", declined.len());
        for d in &declined {
            println!("  {d}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// moto from the project's venv, on a free loopback port; stopped (SIGTERM, then SIGKILL
/// after three seconds) when dropped, on failure or Ctrl-C of the run included.
struct Moto {
    child: std::process::Child,
    url: String,
}

impl Moto {
    fn start() -> anyhow::Result<Moto> {
        let root = workspace();
        let ok = Command::new("bash")
            .arg(root.join("scripts/moto-venv.sh"))
            .status()?;
        anyhow::ensure!(ok.success(), "scripts/moto-venv.sh could not install moto");
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = Command::new(root.join("target/moto-venv/bin/moto_server"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .context("cannot start moto_server")?;
        let m = Moto {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let start = std::time::Instant::now();
        loop {
            use std::io::{Read, Write};
            let ready = std::net::TcpStream::connect(("127.0.0.1", port)).is_ok_and(|mut c| {
                let _ = c.set_read_timeout(Some(std::time::Duration::from_secs(2)));
                let mut buf = [0u8; 5];
                c.write_all(b"GET / HTTP/1.0\r\n\r\n").is_ok()
                    && c.read_exact(&mut buf).is_ok()
                    && &buf == b"HTTP/"
            });
            if ready {
                eprintln!("moto ready on {}", m.url);
                return Ok(m);
            }
            anyhow::ensure!(
                start.elapsed() < std::time::Duration::from_secs(30),
                "moto did not answer within 30 s"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let start = std::time::Instant::now();
        while start.elapsed() < std::time::Duration::from_secs(3) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
