//! Repository tasks: `cargo xtask conformance | bench`.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, bail};

const USAGE: &str = "usage:
  cargo xtask conformance [--endpoint URL] [--jobs N] [--var NAME=VALUE]... [-- FILTER...]
      run the scenarios against an endpoint (moto, LocalStack, your emulator, AWS)
  cargo xtask bench
      measure the harness's own cost per case against an in-process endpoint";

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
    let mut pass: Vec<String> = Vec::new();
    let mut filters: Vec<String> = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--endpoint" => endpoint = Some(it.next().context("--endpoint needs a URL")?.clone()),
            "--jobs" | "--var" | "--region" | "--timeout" | "--retries" => {
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
    let endpoint = endpoint.or_else(|| std::env::var("CONFORM_ENDPOINT").ok()).context(
        "no endpoint: pass --endpoint URL (for example a moto server at http://127.0.0.1:5000); \
         the built-in replay target that makes this optional is not there yet",
    )?;
    let root = workspace();
    let mut cmd: Vec<String> = [
        "run", "--quiet", "-p", "conform", "--bin", "conform", "--", "--root",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    cmd.push(root.display().to_string());
    cmd.extend(["run".into(), "--endpoint".into(), endpoint]);
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
