//! Running conform and cargo from a task: the conform binary built once (or CONFORM_BIN), from
//! the workspace root, without the variables cargo set for xtask itself.

use std::path::PathBuf;
use std::process::{Command, ExitCode};

use anyhow::{Context, bail};

use crate::workspace;

/// Runs the conform binary: CONFORM_BIN when set (xtask's own tests, which cannot start
/// cargo while cargo test holds the build directory), else the one `conform_bin` builds.
pub(crate) fn run_conform(args: &[&str], env: &[(&str, &str)]) -> anyhow::Result<ExitCode> {
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
pub(crate) fn conform_bin() -> anyhow::Result<PathBuf> {
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
pub(crate) fn without_cargo_run_env(cmd: &mut Command) {
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

pub(crate) fn exit_code(status: std::process::ExitStatus) -> ExitCode {
    match status.code() {
        Some(0) => ExitCode::SUCCESS,
        Some(c) => ExitCode::from(u8::try_from(c).unwrap_or(1)),
        None => ExitCode::from(1),
    }
}

pub(crate) fn cargo(args: &[&str]) -> anyhow::Result<ExitCode> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(&cargo);
    cmd.args(args).current_dir(workspace());
    without_cargo_run_env(&mut cmd);
    let status = cmd
        .status()
        .with_context(|| format!("cannot run {cargo}"))?;
    Ok(exit_code(status))
}
