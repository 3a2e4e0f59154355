//! `cargo xtask conformance --target NAME` brings an emulator up from its recipe and takes it
//! down whatever happens: when the run ends, and when xtask alone gets SIGINT or SIGTERM.
//! A python3 http.server stands in for the emulator and a shell script for conform
//! (CONFORM_BIN), so no cargo runs inside the test.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A targets file with one emulator, and a stand-in conform that records its arguments and
/// then sleeps for `conform_secs`.
fn project(dir: &Path, conform_secs: u32) -> std::path::PathBuf {
    std::fs::write(
        dir.join("conform.toml"),
        "[targets.fake]\nbaseline = \"baselines/fake.toml\"\n\n[targets.fake.start]\n\
         command = [\"python3\", \"-m\", \"http.server\", \"--bind\", \"127.0.0.1\", \"{port}\"]\n\
         version = [\"sh\", \"-c\", \"echo fake 9.9\"]\nstop_timeout = 2\n",
    )
    .unwrap();
    let bin = dir.join("conform.sh");
    std::fs::write(
        &bin,
        format!(
            "#!/bin/sh\necho \"$@\" > '{dir}/args'\necho $$ > '{dir}/pid'\n\
             if [ {conform_secs} -gt 0 ]; then exec sleep {conform_secs}; fi\nexit 3\n",
            dir = dir.display()
        ),
    )
    .unwrap();
    Command::new("chmod").arg("+x").arg(&bin).status().unwrap();
    bin
}

fn xtask(dir: &Path, bin: &Path, extra: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["conformance", "--targets"])
        .arg(dir.join("conform.toml"))
        .args(["--target", "fake"])
        .args(extra)
        .env("CONFORM_BIN", bin)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Reads xtask's stderr until it names the port the emulator is ready on.
fn ready_port(child: &mut Child) -> u16 {
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let line = lines
        .by_ref()
        .map_while(Result::ok)
        .find(|l| l.contains(" ready on "))
        .expect("xtask says when the emulator is ready");
    assert!(
        line.starts_with("fake 9.9 ready on http://127.0.0.1:"),
        "{line}"
    );
    // Keep draining, so xtask never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    let url = line.split(" ready on ").nth(1).unwrap();
    let port = url.split(':').nth(2).unwrap().split(' ').next().unwrap();
    port.parse().unwrap()
}

fn listening(port: u16) -> bool {
    TcpStream::connect(("127.0.0.1", port)).is_ok()
}

fn closed_soon(port: u16) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if !listening(port) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

fn wait(child: &mut Child, secs: u64) -> Option<i32> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    panic!("xtask did not end within {secs} s");
}

#[test]
fn the_emulator_stops_when_the_run_ends_and_conform_gets_its_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let bin = project(dir.path(), 0);
    // Any option of `conform run` goes through, as the filters do.
    let mut x = xtask(
        dir.path(),
        &bin,
        &["--exact", "--jobs", "3", "--", "assume_role"],
    );
    let port = ready_port(&mut x);
    // conform's exit code is the run's.
    assert_eq!(wait(&mut x, 30), Some(3));
    assert!(closed_soon(port), "the emulator on {port} outlived the run");
    let args = std::fs::read_to_string(dir.path().join("args")).unwrap();
    for want in [
        format!("--endpoint http://127.0.0.1:{port}"),
        "--target-version fake 9.9".into(),
        "--no-new".into(),
        "--target fake".into(),
        "--exact --jobs 3".into(),
    ] {
        assert!(args.contains(&want), "{want} not in: {args}");
    }
    assert!(
        args.trim_end().ends_with(" assume_role"),
        "no filter last: {args}"
    );
}

#[test]
fn a_signal_to_xtask_alone_stops_the_emulator() {
    for signal in [libc::SIGINT, libc::SIGTERM] {
        let dir = tempfile::tempdir().unwrap();
        let bin = project(dir.path(), 60);
        let mut x = xtask(dir.path(), &bin, &[]);
        let port = ready_port(&mut x);
        assert!(listening(port));
        // Wait until the stand-in conform runs, as a real run would be under way.
        let deadline = Instant::now() + Duration::from_secs(10);
        while !dir.path().join("pid").exists() {
            assert!(Instant::now() < deadline, "conform never started");
            std::thread::sleep(Duration::from_millis(20));
        }
        // SAFETY: kill(2) on the pid of a child this test started; it touches no memory.
        unsafe {
            libc::kill(x.id() as i32, signal);
        }
        assert_eq!(wait(&mut x, 15), Some(130), "signal {signal}");
        assert!(
            closed_soon(port),
            "signal {signal}: the emulator on {port} is still up"
        );
        // The stand-in conform was not signalled (only xtask was); end it here.
        let pid = std::fs::read_to_string(dir.path().join("pid")).unwrap();
        // SAFETY: as above, on the stand-in's own pid.
        unsafe {
            libc::kill(pid.trim().parse().unwrap(), libc::SIGKILL);
        }
    }
}
