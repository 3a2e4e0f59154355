//! Emulators started from a targets-file recipe: real processes on loopback, stopped however
//! the run ends. python3's http.server stands in for an emulator.

use std::path::Path;
use std::time::{Duration, Instant};

use conform::emulator::{Emulator, EmulatorError};
use conform::targets::{Launch, Targets};

fn launch(toml: &str) -> Launch {
    let file = format!("[targets.t.start]\n{toml}\n");
    Targets::parse(Path::new("conform.toml"), &file)
        .unwrap()
        .get("t")
        .unwrap()
        .start
        .clone()
        .unwrap()
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        !s.rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z')
    })
}

fn gone_soon(pid: u32) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if !alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

fn get(url: &str) -> String {
    use std::io::{Read, Write};
    let mut c = std::net::TcpStream::connect(url.trim_start_matches("http://")).unwrap();
    c.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    let mut out = String::new();
    let _ = c.read_to_string(&mut out);
    out
}

fn read_pid(path: &Path) -> u32 {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(p) = std::fs::read_to_string(path)
            .ok()
            .and_then(|t| t.trim().parse().ok())
        {
            return p;
        }
        assert!(
            Instant::now() < deadline,
            "{} never written",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn starts_answers_and_stops_with_its_workers() {
    let dir = tempfile::tempdir().unwrap();
    // A shell that forks the server: stopping must reach the worker too, not only the leader.
    let l = launch(
        r#"command = ["sh", "-c", "python3 -m http.server --bind 127.0.0.1 {port} & echo $! > {state}/worker; wait"]"#,
    );
    let e = Emulator::start("t", &l, dir.path()).unwrap();
    assert!(get(e.url()).starts_with("HTTP/1.0 200"), "{}", get(e.url()));
    let leader = e.pid().unwrap();
    let worker = read_pid(&e.log().with_file_name("state").join("worker"));
    assert!(alive(leader) && alive(worker));
    drop(e);
    assert!(gone_soon(leader), "leader {leader} still running");
    assert!(gone_soon(worker), "worker {worker} still running");
}

#[test]
fn one_that_ignores_sigterm_is_killed_after_the_grace_period() {
    let dir = tempfile::tempdir().unwrap();
    let l = launch(
        r#"command = ["python3", "-c", "import signal, sys, http.server as h; signal.signal(signal.SIGTERM, signal.SIG_IGN); h.HTTPServer(('127.0.0.1', int(sys.argv[1])), h.SimpleHTTPRequestHandler).serve_forever()", "{port}"]
stop_timeout = 1"#,
    );
    let e = Emulator::start("t", &l, dir.path()).unwrap();
    let pid = e.pid().unwrap();
    let stopper = e.stopper();
    let started = Instant::now();
    stopper.stop();
    assert!(!alive(pid), "still running after stop()");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "SIGKILL came before the grace period"
    );
    // Stopping again (Drop after a signal handler stopped it) is harmless.
    drop(e);
}

#[test]
fn one_that_exits_early_says_so_with_its_log() {
    let dir = tempfile::tempdir().unwrap();
    let l = launch(
        r#"command = ["sh", "-c", "echo 'cannot bind port' >&2; exit 3"]
env = { PORT = "{port}" }"#,
    );
    let e = Emulator::start("t", &l, dir.path()).unwrap_err();
    assert!(matches!(e, EmulatorError::Exited { .. }), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("exited (exit status: 3) before it was ready"),
        "{msg}"
    );
    assert!(msg.contains("cannot bind port"), "{msg}");
    assert!(msg.contains("server.log"), "{msg}");
}

#[test]
fn one_that_never_answers_times_out_and_is_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let l = launch(
        r#"command = ["sh", "-c", "echo $$ > {state}/../pid; echo listening on {port}; exec sleep 60"]
ready_timeout = 1"#,
    );
    let started = Instant::now();
    let e = Emulator::start("t", &l, dir.path()).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(10));
    let msg = e.to_string();
    assert!(
        msg.contains("did not answer GET / with 2xx within 1 s"),
        "{msg}"
    );
    assert!(msg.contains("listening on"), "{msg}");
    let run_dir = std::fs::read_dir(dir.path().join("target/emulators/t"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let pid = read_pid(&run_dir.join("pid"));
    // The state directory goes with the process; the log stays.
    assert!(!run_dir.join("state").exists());
    assert!(run_dir.join("server.log").exists());
    assert!(gone_soon(pid), "{pid} left running after the timeout");
}

#[test]
fn a_failing_install_step_stops_before_starting() {
    let dir = tempfile::tempdir().unwrap();
    let l = launch(
        r#"install = ["sh", "-c", "exit 4"]
command = ["sh", "-c", "touch started; sleep 60", "{port}"]"#,
    );
    let e = Emulator::start("t", &l, dir.path()).unwrap_err();
    assert!(matches!(e, EmulatorError::Install { .. }), "{e}");
    assert!(!dir.path().join("started").exists());
}

#[test]
fn a_missing_program_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let l = launch(r#"command = ["target/nowhere/bin/server", "-p", "{port}"]"#);
    let e = Emulator::start("t", &l, dir.path())
        .unwrap_err()
        .to_string();
    assert!(e.contains("cannot run `target/nowhere/bin/server`"), "{e}");
}

#[test]
fn the_version_is_what_the_recipe_command_prints() {
    let dir = tempfile::tempdir().unwrap();
    let ok = launch(
        r#"command = ["srv", "{port}"]
version = ["sh", "-c", "echo '  emu 1.2.3  '"]"#,
    );
    assert_eq!(
        conform::emulator::version(&ok, dir.path()).as_deref(),
        Some("emu 1.2.3")
    );
    let failing = launch(
        r#"command = ["srv", "{port}"]
version = ["sh", "-c", "echo half; exit 1"]"#,
    );
    assert_eq!(conform::emulator::version(&failing, dir.path()), None);
    let none = launch(r#"command = ["srv", "{port}"]"#);
    assert_eq!(conform::emulator::version(&none, dir.path()), None);
}
