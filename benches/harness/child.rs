//! Running a client as a child process and reading what it cost from the kernel (`wait4`):
//! its CPU time, wall time and peak resident memory, apart from the bench's own work.
//!
//! Linux keeps a process's peak resident size across `exec`, and a child starts with its
//! parent's pages: a client spawned by the bench directly reported the bench's own peak
//! (tens of megabytes of loaded suite) whenever that was the larger. So each client is
//! started by a small fresh copy of this binary (`--measure`), which reports the usage of
//! the one process it starts.

use std::io::{Read as _, Seek as _};
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

/// What one child run cost and said.
pub struct Ran {
    pub cpu: Duration,
    pub wall: Duration,
    pub max_rss_kb: u64,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `cmd` to its end, its output kept in temporary files (pipes could fill and stall it).
pub fn run(cmd: &mut Command) -> Ran {
    let mut out = tempfile::tempfile().expect("a temp file");
    let mut err = tempfile::tempfile().expect("a temp file");
    let usage = tempfile::NamedTempFile::new().expect("a temp file");
    let mut measure = Command::new(std::env::current_exe().expect("the bench's own path"));
    measure
        .arg("--measure")
        .arg(usage.path())
        .arg(cmd.get_program())
        .args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => measure.env(k, v),
            None => measure.env_remove(k),
        };
    }
    if let Some(dir) = cmd.get_current_dir() {
        measure.current_dir(dir);
    }
    let status = measure
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(err.try_clone().unwrap())
        .status()
        .unwrap_or_else(|e| panic!("cannot start {:?}: {e}", cmd.get_program()));
    let read = |f: &mut std::fs::File| {
        let mut s = String::new();
        f.rewind().unwrap();
        f.read_to_string(&mut s).unwrap_or_default();
        s
    };
    let (stdout, stderr) = (read(&mut out), read(&mut err));
    let figures: Vec<u64> = std::fs::read_to_string(usage.path())
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|n| n.parse().ok())
        .collect();
    let [cpu_us, wall_us, max_rss_kb, code] = figures[..] else {
        panic!(
            "bench: {:?} was not measured ({status}): {stderr}",
            cmd.get_program()
        );
    };
    Ran {
        cpu: Duration::from_micros(cpu_us),
        wall: Duration::from_micros(wall_us),
        max_rss_kb,
        code: i32::try_from(code).unwrap_or(-1),
        stdout,
        stderr,
    }
}

/// The `--measure FILE PROGRAM ARGS...` mode: runs the program with this process's
/// environment and output, and writes its CPU and wall microseconds, peak resident
/// kilobytes and exit code (-1 when a signal ended it, written as `u64::MAX`) to FILE.
pub fn measure(args: &[String]) -> ExitCode {
    let [file, program, rest @ ..] = args else {
        eprintln!("bench: --measure takes FILE PROGRAM [ARGS...]");
        return ExitCode::from(2);
    };
    let start = Instant::now();
    // wait4 below reaps it, with the resource usage that std's wait cannot give.
    #[allow(clippy::zombie_processes)]
    let child = match Command::new(program).args(rest).spawn() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("bench: cannot start {program}: {e}");
            return ExitCode::from(2);
        }
    };
    let mut status = 0;
    // SAFETY: wait4 only writes the status and the struct we hand it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = child.id() as libc::pid_t;
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = start.elapsed();
    assert_eq!(waited, pid, "wait4 reaps the child it started");
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, (t.tv_usec as u32) * 1000);
    let cpu = tv(usage.ru_utime) + tv(usage.ru_stime);
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status) as u64
    } else {
        u64::MAX
    };
    let line = format!(
        "{} {} {} {code}\n",
        cpu.as_micros(),
        wall.as_micros(),
        usage.ru_maxrss
    );
    match std::fs::write(Path::new(file), line) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench: cannot write {file}: {e}");
            ExitCode::from(2)
        }
    }
}

/// Runs `cmd` and stops the bench unless it exits 0: a figure from a failed run means nothing.
pub fn ok(what: &str, cmd: &mut Command) -> Ran {
    let ran = run(cmd);
    if ran.code != 0 {
        fail(&format!("{what} exited with {}", ran.code), &ran);
    }
    ran
}

pub fn fail(what: &str, ran: &Ran) -> ! {
    let tail = |s: &str| {
        s.lines()
            .rev()
            .take(15)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n")
    };
    eprintln!(
        "bench: {what}; the figures would mean nothing\n--- stdout (end)\n{}\n--- stderr (end)\n{}",
        tail(&ran.stdout),
        tail(&ran.stderr)
    );
    std::process::exit(2);
}
