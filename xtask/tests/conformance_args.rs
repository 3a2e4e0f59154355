//! `cargo xtask conformance --target NAME` leaves the emulator to `conform run --target NAME`
//! (tests/elsewhere.rs brings it up and down): xtask passes the target on and starts nothing
//! itself. A shell script stands in for conform (CONFORM_BIN), so no cargo runs inside the
//! test.

use std::path::Path;
use std::process::{Command, Stdio};

/// A targets file with one emulator, and a stand-in conform that records its arguments.
fn project(dir: &Path) -> std::path::PathBuf {
    std::fs::write(
        dir.join("conform.toml"),
        "[targets.fake]\nbaseline = \"baselines/fake.toml\"\n\n[targets.fake.start]\n\
         command = [\"sh\", \"-c\", \"touch started; exec sleep 30\", \"{port}\"]\n",
    )
    .unwrap();
    let bin = dir.join("conform.sh");
    std::fs::write(
        &bin,
        format!(
            "#!/bin/sh\necho \"$@\" > '{dir}/args'\nexit 3\n",
            dir = dir.display()
        ),
    )
    .unwrap();
    Command::new("chmod").arg("+x").arg(&bin).status().unwrap();
    bin
}

#[test]
fn the_target_goes_to_conform_run_which_starts_its_emulator() {
    let dir = tempfile::tempdir().unwrap();
    let bin = project(dir.path());
    let status = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["conformance", "--targets"])
        .arg(dir.path().join("conform.toml"))
        .args([
            "--target",
            "fake",
            "--exact",
            "--jobs",
            "3",
            "--",
            "assume_role",
        ])
        .env("CONFORM_BIN", &bin)
        .env_remove("CONFORM_ENDPOINT")
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .status()
        .unwrap();
    // conform's exit code is the run's.
    assert_eq!(status.code(), Some(3));
    let args = std::fs::read_to_string(dir.path().join("args")).unwrap();
    for want in ["--target fake", "--targets ", "--exact --jobs 3"] {
        assert!(args.contains(want), "{want} not in: {args}");
    }
    assert!(!args.contains("--endpoint"), "{args}");
    assert!(
        args.trim_end().ends_with(" assume_role"),
        "no filter last: {args}"
    );
    assert!(
        !dir.path().join("started").exists() && !dir.path().join("target").exists(),
        "xtask started the emulator itself"
    );
}
