//! `cargo xtask conformance`: the suite against the built-in replay server, an endpoint, or a
//! target of conform.toml, whose emulator is started from its recipe and stopped here.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};

use crate::process::run_conform;
use crate::{USAGE, workspace};

pub(crate) fn conformance(args: &[String]) -> anyhow::Result<ExitCode> {
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
