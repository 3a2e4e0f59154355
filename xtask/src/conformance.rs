//! `cargo xtask conformance`: the suite against the built-in replay server, an endpoint, or a
//! target of conform.toml (whose emulator `conform run --target` starts and stops).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::bail;

use crate::process::run_conform;
use crate::workspace;

/// `cargo xtask conformance [--target NAME] [--targets FILE] [--endpoint URL] [RUN_ARGS]...`:
/// xtask's own options first; everything after them is `conform run`'s (its options and
/// filters), checked by conform itself, so every option of `conform run` works here.
#[derive(clap::Args)]
pub(crate) struct ConformanceArgs {
    /// A target of the targets file; one with a start recipe (moto, localstack) is installed,
    /// started on a free port and stopped when the run ends (by `conform run --target`). `replay` (the default) is
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
    let mut pass: Vec<String> = Vec::new();
    if let Some(file) = &args.targets {
        pass.extend(["--targets".into(), file.display().to_string()]);
    }
    // `conform run --target NAME` starts a target's emulator from its recipe and stops it
    // whatever happens (the same code as for any user of the binary); the built-in replay
    // server needs no name.
    if let Some(name) = args.target.as_deref().filter(|n| *n != "replay") {
        pass.extend(["--target".into(), name.to_owned()]);
    }
    let root = workspace();
    // Without an endpoint, `conform run` starts the built-in replay server.
    let endpoint = args.endpoint.clone().or_else(|| {
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
