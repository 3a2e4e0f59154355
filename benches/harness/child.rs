//! Running a client as a child process and reading what it cost from the kernel (`wait4`):
//! its CPU time, wall time and peak resident memory, apart from the bench's own work.

use std::io::{Read as _, Seek as _};
use std::process::{Command, Stdio};
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
    let start = Instant::now();
    // wait4 below reaps it, with the resource usage that std's wait cannot give.
    #[allow(clippy::zombie_processes)]
    let child = cmd
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(err.try_clone().unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {:?}: {e}", cmd.get_program()));
    let mut status = 0;
    // SAFETY: wait4 only writes the status and the struct we hand it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = child.id() as libc::pid_t;
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = start.elapsed();
    assert_eq!(waited, pid, "wait4 reaps the child it started");
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, (t.tv_usec as u32) * 1000);
    let read = |f: &mut std::fs::File| {
        let mut s = String::new();
        f.rewind().unwrap();
        f.read_to_string(&mut s).unwrap_or_default();
        s
    };
    Ran {
        cpu: tv(usage.ru_utime) + tv(usage.ru_stime),
        wall,
        max_rss_kb: usage.ru_maxrss as u64,
        code: if libc::WIFEXITED(status) {
            libc::WEXITSTATUS(status)
        } else {
            -1
        },
        stdout: read(&mut out),
        stderr: read(&mut err),
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
