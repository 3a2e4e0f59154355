//! `cargo xtask conformance`: the suite against the built-in replay server, an endpoint, or a
//! target of conform.toml, whose emulator is started from its recipe and stopped here.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};

use crate::process::run_conform;
use crate::workspace;

/// `cargo xtask conformance [--target NAME] [--targets FILE] [--endpoint URL] [RUN_ARGS]...`:
/// xtask's own options first; everything after them is `conform run`'s (its options and
/// filters), checked by conform itself, so every option of `conform run` works here.
#[derive(clap::Args)]
pub(crate) struct ConformanceArgs {
    /// A target of the targets file; one with a start recipe (moto, localstack) is installed,
    /// started on a free port here and stopped when the run ends. `replay` (the default) is
    /// the built-in replay server.
    #[arg(long)]
    target: Option<String>,
    /// The targets file (default: conform.toml in this checkout).
    #[arg(long)]
    targets: Option<PathBuf>,
    /// An endpoint already running (your emulator, AWS); also CONFORM_ENDPOINT.
    #[arg(long)]
    endpoint: Option<String>,
    /// `conform run`'s options and filters (substrings of test names), e.g. `--jobs 4
    /// --update-baseline assume_role` (`conform run --help` lists them).
    #[arg(
        allow_hyphen_values = true,
        trailing_var_arg = true,
        value_name = "RUN_ARGS"
    )]
    run: Vec<String>,
}

impl ConformanceArgs {
    /// The same task for another target, writing its JSON report to `json` (for `parity`).
    pub(crate) fn for_parity(target: Option<&str>, json: &Path) -> ConformanceArgs {
        ConformanceArgs {
            target: target.map(str::to_owned),
            targets: None,
            endpoint: None,
            run: vec!["--report-json".into(), json.display().to_string()],
        }
    }

    /// The command line a user types, for the hint that updates a baseline: xtask's options,
    /// then conform's.
    fn command_line(&self) -> Vec<String> {
        let mut line = vec!["cargo xtask conformance".to_owned()];
        let own = [
            ("--target", self.target.clone()),
            (
                "--targets",
                self.targets.as_ref().map(|t| t.display().to_string()),
            ),
            ("--endpoint", self.endpoint.clone()),
        ];
        for (flag, value) in own {
            if let Some(v) = value {
                line.extend([flag.to_owned(), v]);
            }
        }
        line.extend(self.run.iter().cloned());
        line
    }
}

/// Options xtask reads itself. After the first of conform's they would go to `conform run`
/// unseen by xtask (an emulator never started), so they are refused there with a hint.
const OWN: [&str; 3] = ["--target", "--targets", "--endpoint"];

pub(crate) fn conformance(args: ConformanceArgs) -> anyhow::Result<ExitCode> {
    if let Some(at) = args.run.iter().position(|a| {
        OWN.iter()
            .any(|o| a.as_str() == *o || a.starts_with(&format!("{o}=")))
    }) {
        // The same command with xtask's option moved to the front, for the user to copy.
        let mut run = args.run.clone();
        let takes_value = !run[at].contains('=') && at + 1 < run.len();
        let moved: Vec<String> = run.drain(at..at + 1 + usize::from(takes_value)).collect();
        let mut fixed = vec!["cargo xtask conformance".to_owned()];
        fixed.extend(moved);
        fixed.extend(
            args.command_line()
                .into_iter()
                .skip(1)
                .take_while(|a| *a != args.run[0]),
        );
        fixed.extend(run);
        bail!(
            "{} is xtask's own option (it decides which target to start), so it comes before `conform run`'s options and filters:\n  {}",
            args.run[at].split('=').next().unwrap_or_default(),
            fixed.join(" ")
        );
    }
    let mut endpoint = args.endpoint.clone();
    let mut pass: Vec<String> = Vec::new();
    if let Some(file) = &args.targets {
        pass.extend(["--targets".into(), file.display().to_string()]);
    }
    let targets_file = args.targets.clone();
    let target = args.target.clone();
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
                // An emulator keeps what a case wrongly lets it create (moto makes a role
                // named "None" when CreateRole has no name), and a later case may meet it. One
                // case at a time, in name order, meets the same state every run, so the gate's
                // verdict does not depend on which case finished first. `--jobs` overrides.
                if !args
                    .run
                    .iter()
                    .any(|a| a == "--jobs" || a.starts_with("--jobs="))
                {
                    pass.extend(["--jobs".into(), "1".into()]);
                }
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
    cmd.extend(args.run.iter().cloned());
    // The port above changes every run: the command that updates a baseline is this one.
    let mut again = args.command_line();
    again.retain(|a| a != "--update-baseline");
    // Before a `--`, after which it would be a filter.
    let at = again.iter().position(|a| a == "--").unwrap_or(again.len());
    again.insert(at, "--update-baseline".into());
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
