//! Repository tasks: `cargo xtask conformance | bench | expect`.

mod reference;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::Arc;

use anyhow::{Context, bail};

const USAGE: &str = "usage:
  cargo xtask conformance [--target NAME] [--endpoint URL] [--jobs N] [--var NAME=VALUE]...
                          [--report-json|--report-junit|--report-md|--report-html FILE]
                          [--shard K/N] [--update-baseline] [--allow-aws] [-- FILTER...]
      run the scenarios against the built-in replay server, a target named in conform.toml
      (moto and localstack are installed, started on a free port and stopped here), or any
      endpoint (your emulator, AWS)
  cargo xtask record --target aws|URL [--allow-aws] [--region R] [--filter TEXT]... [--dry-run]
      record fresh snapshots (conform record) into this checkout
  cargo xtask parity
      run the corpus against replay, moto and LocalStack and write docs/parity.md and
      docs/parity.html (the parity matrix, dated, with each target's version)
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
            let mut cmd: Vec<&str> = vec!["--root", &root, "record"];
            cmd.extend(rest.iter().map(String::as_str));
            run_conform(&cmd, &[])
        }
        "parity" => parity(),
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
    let mut targets_file: Option<PathBuf> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--endpoint" => endpoint = Some(it.next().context("--endpoint needs a URL")?.clone()),
            "--targets" => {
                let file = it.next().context("--targets needs a file")?;
                targets_file = Some(PathBuf::from(file));
                pass.extend(["--targets".into(), file.clone()]);
            }
            "--target" => {
                target = Some(
                    it.next()
                        .context("--target needs a name from conform.toml")?
                        .clone(),
                )
            }
            "--update-baseline" | "--allow-aws" => pass.push(a.clone()),
            "--jobs" | "--var" | "--region" | "--timeout" | "--retries" | "--shard"
            | "--report-json" | "--report-junit" | "--report-md" | "--report-html" => {
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
    let root = workspace();
    // A target with a start recipe in conform.toml is started here and stopped whatever
    // happens; any other named target is left to `conform run --target` (its endpoint).
    let mut _emulator = None;
    match target.as_deref() {
        None | Some("replay") => {}
        Some(name) => {
            let file = targets_file
                .clone()
                .unwrap_or_else(|| root.join("conform.toml"));
            let targets = conform::targets::Targets::load(&file)?;
            let spec = targets.get(name)?;
            if let (Some(launch), None) = (&spec.start, &endpoint) {
                let e = conform::emulator::Emulator::start(name, launch, targets.dir())?;
                // A SIGINT or SIGTERM sent to xtask alone (not its process group) would skip
                // Drop: stop the emulator from the handler, then leave as an interrupted run.
                on_interrupt_stop(name, e.stopper())?;
                let version = conform::emulator::version(launch, targets.dir());
                eprintln!(
                    "{} ready on {} (log: {})",
                    version.as_deref().unwrap_or(name),
                    e.url(),
                    e.log().display()
                );
                if let Some(v) = version {
                    pass.extend(["--target-version".into(), v]);
                }
                endpoint = Some(e.url().to_owned());
                _emulator = Some(e);
                // The snapshots say what AWS does: an emulator's answers are no candidates.
                pass.push("--no-new".into());
            }
            pass.extend(["--target".into(), name.to_owned()]);
        }
    }
    // Without an endpoint, `conform run` starts the built-in replay server.
    let endpoint = endpoint.or_else(|| {
        std::env::var("CONFORM_ENDPOINT")
            .ok()
            .filter(|e| !e.is_empty())
    });
    // conform's own arguments; `cargo run` gets them after its own.
    let mut cmd: Vec<String> = vec!["--root".into(), root.display().to_string(), "run".into()];
    if let Some(e) = endpoint {
        cmd.extend(["--endpoint".into(), e]);
    }
    cmd.extend(pass);
    for f in filters {
        cmd.push("--filter".into());
        cmd.push(f);
    }
    // The port above changes every run: the command that updates a baseline is this one,
    // with the flag before any `--` (after it, it would be a filter).
    let mut again = vec!["cargo xtask conformance".to_owned()];
    let (opts, rest) = args.split_at(args.iter().position(|a| a == "--").unwrap_or(args.len()));
    again.extend(opts.iter().filter(|a| *a != "--update-baseline").cloned());
    again.push("--update-baseline".into());
    again.extend(rest.iter().cloned());
    let env = [("CONFORM_UPDATE_BASELINE", again.join(" "))];
    // A conform binary built already (CONFORM_BIN) instead of `cargo run`: for xtask's own
    // tests, which cannot start cargo while cargo test holds the build directory.
    let refs: Vec<&str> = cmd.iter().map(String::as_str).collect();
    run_conform(&refs, &[(env[0].0, &env[0].1)])
}

/// Runs the conform binary: CONFORM_BIN when set (xtask's own tests, which cannot start
/// cargo while cargo test holds the build directory), else the one `conform_bin` builds.
fn run_conform(args: &[&str], env: &[(&str, &str)]) -> anyhow::Result<ExitCode> {
    let bin = match std::env::var_os("CONFORM_BIN").filter(|b| !b.is_empty()) {
        Some(bin) => PathBuf::from(bin),
        None => conform_bin()?,
    };
    // From the workspace root, as `cargo run` did: relative paths in arguments (reports,
    // docs/parity.html) keep meaning what they meant.
    let status = Command::new(&bin)
        .args(args)
        .envs(env.iter().copied())
        .current_dir(workspace())
        .status()
        .with_context(|| format!("cannot run {}", bin.display()))?;
    Ok(exit_code(status))
}

/// Builds the conform binary and returns its path. Not quiet: on a fresh checkout this is
/// minutes of compiling, and cargo's progress is what tells the user what is happening;
/// when nothing changed cargo prints a single `Finished` line.
fn conform_bin() -> anyhow::Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(&cargo);
    cmd.args(["build", "-p", "conform", "--bin", "conform"])
        .arg("--message-format=json-render-diagnostics")
        .current_dir(workspace())
        .stdout(std::process::Stdio::piped());
    without_cargo_run_env(&mut cmd);
    let out = cmd
        .spawn()
        .and_then(|c| c.wait_with_output())
        .with_context(|| format!("cannot run {cargo}"))?;
    if !out.status.success() {
        bail!("building conform failed; cargo's errors are above");
    }
    // The artifact message names the executable, wherever the target directory is.
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "conform")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .context("cargo built conform but named no executable")
}

/// Cargo describes the package it runs (xtask) in these variables. Passed on to a nested
/// cargo they change what build scripts see (ring's reads CARGO_MANIFEST_DIR), so every
/// `cargo xtask` rebuilt ring, rustls and conform: about 70 s with nothing changed.
fn without_cargo_run_env(cmd: &mut Command) {
    for (key, _) in std::env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        let per_package = key.starts_with("CARGO_PKG_")
            || matches!(
                key,
                "CARGO_MANIFEST_DIR"
                    | "CARGO_MANIFEST_PATH"
                    | "CARGO_MANIFEST_LINKS"
                    | "CARGO_CRATE_NAME"
                    | "CARGO_BIN_NAME"
                    | "CARGO_PRIMARY_PACKAGE"
                    | "CARGO_TARGET_TMPDIR"
                    | "CARGO_RUSTC_CURRENT_DIR"
            );
        if per_package {
            cmd.env_remove(key);
        }
    }
}

fn exit_code(status: std::process::ExitStatus) -> ExitCode {
    match status.code() {
        Some(0) => ExitCode::SUCCESS,
        Some(c) => ExitCode::from(u8::try_from(c).unwrap_or(1)),
        None => ExitCode::from(1),
    }
}

fn cargo(args: &[&str]) -> anyhow::Result<ExitCode> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(&cargo);
    cmd.args(args).current_dir(workspace());
    without_cargo_run_env(&mut cmd);
    let status = cmd
        .status()
        .with_context(|| format!("cannot run {cargo}"))?;
    Ok(exit_code(status))
}

/// A case the documented-behaviour reference can answer: STS calls only, signed with the
/// target's keys or with keys captured earlier in the case, no setup or cleanup.
fn reference_can_answer(case: &conform::scenario::Case) -> bool {
    use conform::scenario::{CredentialsSpec, Request, Role};
    // An outcome that needs something only a real target has cannot be derived.
    if !case.requires.is_empty() {
        return false;
    }
    // A pinned value is known from a recording, which the reference cannot derive.
    if !case.pin.is_empty() {
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
    let Some(facts) = suite.facts.get("sts").cloned() else {
        bail!("models/sts.facts.yaml is missing: the reference writes its messages from it");
    };
    let reference = reference::ReferenceSts::new(
        suite.models["sts"].clone(),
        facts,
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
            Outcome::Fail { diff, .. } => disagree.push(format!("{}\n{diff}", case.test_name())),
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

/// The emulator a signal must stop: a SIGINT or SIGTERM sent to xtask alone (not its process
/// group) would skip Drop. The handler can be installed once per process and `parity` starts
/// several emulators one after another, so it stops whichever is current.
static CURRENT: std::sync::Mutex<Option<(String, conform::emulator::Stopper)>> =
    std::sync::Mutex::new(None);

fn on_interrupt_stop(name: &str, stopper: conform::emulator::Stopper) -> anyhow::Result<()> {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    let mut result = Ok(());
    INSTALLED.call_once(|| {
        result = ctrlc::set_handler(|| {
            if let Some((name, stopper)) = CURRENT.lock().ok().and_then(|mut c| c.take()) {
                stopper.stop();
                eprintln!("interrupted: {name} stopped");
            }
            std::process::exit(130);
        });
    });
    result.context("cannot install the Ctrl-C handler")?;
    if let Ok(mut c) = CURRENT.lock() {
        *c = Some((name.to_owned(), stopper));
    }
    Ok(())
}

/// What the corpus's expected answers rest on, for the parity page: how many cases cite a
/// recording of AWS, and which element orders are only documented.
fn corpus_truth(root: &Path) -> anyhow::Result<String> {
    use conform::scenario::Provenance;
    let suite = conform::suite::Suite::load(&conform::suite::Layout::at(root))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let n = |p| suite.cases.iter().filter(|c| c.provenance == p).count();
    let total = suite.cases.len().max(1);
    let recorded = n(Provenance::Recorded);
    let mut out = format!(
        "What the expected answers rest on: {recorded} of {} cases ({:.0}%) on a recording of AWS \
         (cited `[R:id]`, listed in `models/<service>.facts.yaml`), {} on documents, {} on inference \
         (each operation's counts are in `scenarios/<service>/COVERAGE.md`). An emulator that \
         differs from an inferred answer may be right.",
        suite.cases.len(),
        recorded as f64 * 100.0 / total as f64,
        n(Provenance::Documented),
        n(Provenance::Inferred),
    );
    for (service, facts) in &suite.facts {
        let documented: Vec<String> = facts
            .order
            .iter()
            .filter(|o| o.provenance == Provenance::Documented)
            .map(|o| format!("`{}`", o.path))
            .collect();
        if !documented.is_empty() {
            out.push_str(&format!(
                " {service}: element order at {} is documented, not recorded, so no emulator is judged on it (each target's Not judged list counts what was left out).",
                documented.join(" and ")
            ));
        }
    }
    Ok(out)
}

/// Runs the corpus against every measured target and writes docs/parity.md and
/// docs/parity.html from their reports, dated and with each target's version.
fn parity() -> anyhow::Result<ExitCode> {
    let root = workspace();
    let dir = root.join("target").join("parity");
    std::fs::create_dir_all(&dir)?;
    let mut failed = Vec::new();
    let mut reports = Vec::new();
    for name in ["replay", "moto", "localstack"] {
        let json = dir.join(format!("{name}.json"));
        let _ = std::fs::remove_file(&json);
        let mut args = vec!["--report-json".to_owned(), json.display().to_string()];
        // Each report carries its judgement: the target's baseline and not-judged rules.
        if name != "replay" {
            args.extend(["--target".to_owned(), name.to_owned()]);
        }
        eprintln!("== {name}");
        if conformance(&args)? != ExitCode::SUCCESS {
            failed.push(name);
        }
        anyhow::ensure!(json.exists(), "the {name} run wrote no report; see above");
        reports.push(json.display().to_string());
    }
    let md = dir.join("matrix.md");
    let mut cmd: Vec<String> = vec!["matrix".to_owned()];
    cmd.extend(reports);
    cmd.extend(["--md".to_owned(), md.display().to_string()]);
    cmd.extend(["--html".to_owned(), "docs/parity.html".to_owned()]);
    let refs: Vec<&str> = cmd.iter().map(String::as_str).collect();
    if run_conform(&refs, &[])? != ExitCode::SUCCESS {
        bail!("conform matrix failed");
    }
    let today = time::OffsetDateTime::now_utc().date();
    let truth = corpus_truth(&root)?;
    let header = format!(
        "# Parity: what each target does with the STS corpus\n\n\
         Generated on {today} by `cargo xtask parity` (conform {}): the whole corpus against the\n\
         built-in replay server, moto and LocalStack, each emulator judged with its baseline and\n\
         what it is declared not to be judged on (`conform.toml`, and for every emulator the\n\
         element orders AWS is only documented to use, from the service's facts). A case is graded on six\n\
         levels, each including the ones before it: the HTTP status (and content type), the\n\
         error code and type, the message, the structure (the same elements, order aside), the\n\
         element order, and every value (a full pass). `baselined` marks a case whose deviations\n\
         are all listed in `baselines/<target>.toml` ([parity.html](parity.html) shows the\n\
         reason on hover); in parentheses, the last level the case agrees at; `-` marks a case the\n\
         target did not run (the replay server skips the cases that need a real account). The\n\
         README's Parity section explains the numbers.\n\n{truth}\n\n",
        env!("CARGO_PKG_VERSION")
    );
    let matrix = std::fs::read_to_string(&md)?;
    std::fs::write(root.join("docs/parity.md"), header + &matrix)?;
    eprintln!("wrote docs/parity.md and docs/parity.html");
    if failed.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("the gate failed for: {}", failed.join(", "));
        Ok(ExitCode::from(1))
    }
}
