//! Repository tasks: `cargo xtask conformance | record | parity | bench | expect`, one module
//! per task; `process` runs conform and cargo for them.

mod conformance;
mod expect;
mod parity;
mod process;
mod reference;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::bail;

use conformance::conformance;
use expect::expect;
use parity::parity;
use process::{cargo, run_conform};

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

pub(crate) fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_owned()
}
