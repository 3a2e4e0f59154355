//! Repository tasks: `cargo xtask conformance | record | parity | bench | expect`, one module
//! per task; `process` runs conform and cargo for them. `cargo xtask help` lists them.

mod conformance;
mod expect;
mod parity;
mod process;
mod reference;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;

use conformance::{ConformanceArgs, conformance};
use expect::expect;
use parity::parity;
use process::{cargo, run_conform};

/// Repository tasks of conform.
#[derive(Parser)]
#[command(name = "xtask", bin_name = "cargo xtask")]
enum Task {
    /// Run the scenarios against the built-in replay server, a target named in conform.toml
    /// (moto and localstack are installed, started on a free port and stopped here), or any
    /// endpoint (your emulator, AWS).
    Conformance(ConformanceArgs),
    /// Record fresh snapshots (`conform record`) into this checkout; every argument is
    /// `conform record`'s (`--target NAME|URL`, `--endpoint`, `--allow-aws`, `--region`, `--filter`,
    /// `--missing`, `--dry-run`).
    Record {
        #[arg(
            allow_hyphen_values = true,
            trailing_var_arg = true,
            value_name = "RECORD_ARGS"
        )]
        args: Vec<String>,
    },
    /// Run the corpus against replay, moto and LocalStack and write docs/parity.md and
    /// docs/parity.html (the parity matrix, dated, with each target's version).
    Parity,
    /// Measure what conform costs per case at 1,000 and 10,000 cases, beside curl and a bare
    /// client, and how each cost grows; writes docs/benchmark.md and the README's quote of it.
    /// Fails only when a cost grows faster than the suite (exponent above 1.2).
    Bench {
        /// The CI check: fewer rounds, no serve load, figures written to target/bench-short.md
        /// (the committed ones stay as they are).
        #[arg(long)]
        short: bool,
        /// Two suite sizes to compare instead of 1000,10000, for a quick look (written to target/bench-short.md too).
        #[arg(long, value_name = "SMALL,BIG")]
        sizes: Option<String>,
    },
    /// Write the missing snapshots of documented and inferred STS cases from the documented
    /// behaviour (never overwrites one; lists the cases it cannot answer).
    Expect {
        /// Check that the stored snapshots still agree with the documented behaviour instead.
        #[arg(long)]
        check: bool,
        /// Project root (default: this checkout).
        #[arg(long)]
        root: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let task = Task::parse();
    match run(task) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(task: Task) -> anyhow::Result<ExitCode> {
    match task {
        Task::Conformance(args) => conformance(args),
        Task::Bench { short, sizes } => {
            let mut args = vec!["bench", "-p", "conform", "--bench", "harness", "--"];
            let out = workspace().join(if short || sizes.is_some() {
                "target/bench-short.md"
            } else {
                "docs/benchmark.md"
            });
            let out = out.display().to_string();
            args.extend(["--out", &out]);
            if short {
                args.push("--short");
            }
            if let Some(sizes) = &sizes {
                args.extend(["--sizes", sizes]);
            } else if !short {
                args.push("--readme");
            }
            cargo(&args)
        }
        Task::Record { args } => {
            let root = workspace().display().to_string();
            let mut cmd: Vec<&str> = vec!["--root", &root, "record"];
            cmd.extend(args.iter().map(String::as_str));
            run_conform(&cmd, &[])
        }
        Task::Parity => parity(),
        Task::Expect { check, root } => expect(&root.unwrap_or_else(workspace), check),
    }
}

pub(crate) fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_owned()
}
