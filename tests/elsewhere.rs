//! conform used from another repository: the corpus it carries (exported, and used where the
//! root holds no scenarios), and `run --target NAME` bringing an emulator up from its recipe
//! and taking it down, at the end and on a signal. The real binary in temp directories;
//! `conform serve` itself stands in for the emulator.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_conform");

/// `conform ARGS` in `dir`, unpacking the built-in corpus into `cache`, never the user's.
fn conform(dir: &Path, cache: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir)
        .env("CONFORM_CACHE_DIR", cache)
        .env_remove("CONFORM_ENDPOINT")
        .env_remove("CI")
        .stdin(Stdio::null());
    cmd
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The files of the repository that make the corpus, found here by a walk of our own rather
/// than by the build script's.
fn repo_corpus() -> Vec<PathBuf> {
    fn walk(root: &Path, rel: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(root.join(rel)).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name().into_string().unwrap();
            if name.starts_with('.')
                || name.ends_with(".snap.new")
                || name.ends_with(".pending-snap")
            {
                continue;
            }
            let path = rel.join(&name);
            if entry.file_type().unwrap().is_dir() {
                walk(root, &path, out);
            } else {
                out.push(path);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<PathBuf> = [
        "conform.toml",
        "scripts/moto-venv.sh",
        "scripts/localstack-venv.sh",
    ]
    .into_iter()
    .map(PathBuf::from)
    .collect();
    for dir in ["scenarios", "snapshots", "models", "baselines"] {
        walk(root, Path::new(dir), &mut files);
    }
    files.sort();
    files
}

fn exported_files(dir: &Path) -> Vec<PathBuf> {
    fn walk(root: &Path, rel: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(root.join(rel)).unwrap() {
            let entry = entry.unwrap();
            let path = rel.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                walk(root, &path, out);
            } else {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(dir, Path::new(""), &mut files);
    files.sort();
    files
}

#[test]
fn the_exported_corpus_is_the_repositorys_and_runs_on_the_built_in_target() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let out = conform(tmp.path(), &cache)
        .args(["export", "corpus"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let exported = tmp.path().join("corpus");

    // Byte for byte the repository's files, no file more or less.
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let expected = repo_corpus();
    assert_eq!(exported_files(&exported), expected);
    for rel in &expected {
        assert!(
            std::fs::read(repo.join(rel)).unwrap() == std::fs::read(exported.join(rel)).unwrap(),
            "{} differs from the repository's",
            rel.display()
        );
    }
    // Every script a start recipe runs travels with the corpus.
    let targets = conform::targets::Targets::load(&exported.join("conform.toml")).unwrap();
    for name in targets.names() {
        let Some(start) = &targets.get(name).unwrap().start else {
            continue;
        };
        for arg in start.install.iter().filter(|a| a.contains('/')) {
            assert!(exported.join(arg).is_file(), "{name} installs with {arg}");
        }
    }

    // An export never overwrites.
    let again = conform(tmp.path(), &cache)
        .args(["export", "corpus"])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2), "{}", text(&again));
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("exists; export into an empty directory")
    );

    let run = conform(tmp.path(), &cache)
        .args(["--root", "corpus", "run"])
        .output()
        .unwrap();
    let shown = text(&run);
    assert!(run.status.success(), "{shown}");
    assert!(
        shown.contains(" passed, 0 failed, 0 missing a snapshot, 0 errors"),
        "{shown}"
    );
    assert!(!shown.contains("holds no scenarios"), "{shown}");
    // Run where it is: nothing unpacked into the cache (which holds only what the run's
    // scenario files yield).
    let unpacked: Vec<_> = std::fs::read_dir(&cache)
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(
        unpacked
            .iter()
            .all(|n| !n.to_string_lossy().starts_with("corpus-")),
        "an exported corpus is run where it is: {unpacked:?}"
    );
}

/// `conform ARGS` in an empty directory with a cache of its own: the temporary directory
/// holding both, the cache, the empty directory and what conform said.
fn in_an_empty_dir(args: &[&str]) -> (tempfile::TempDir, PathBuf, PathBuf, Output) {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let out = conform(&empty, &cache).args(args).output().unwrap();
    (tmp, cache, empty, out)
}

#[test]
fn a_run_where_the_root_holds_no_scenarios_uses_the_built_in_corpus() {
    let (_tmp, cache, empty, out) = in_an_empty_dir(&[
        "run",
        "--exact",
        "sts::GetCallerIdentity::caller_identity_empty_body",
    ]);
    let shown = text(&out);
    assert!(out.status.success(), "{shown}");
    assert!(
        shown.contains(". holds no scenarios/: using the corpus built into conform"),
        "{shown}"
    );
    assert!(
        shown.contains("1 cases against the built-in replay server"),
        "{shown}"
    );
    // Unpacked once, into the cache directory; the user's directory is left as it was.
    assert_eq!(std::fs::read_dir(&empty).unwrap().count(), 0);
    let unpacked: Vec<_> = std::fs::read_dir(&cache).unwrap().collect();
    assert_eq!(unpacked.len(), 1, "{unpacked:?}");
}

/// A baseline of the built-in corpus lives in the cache: `--update-baseline` refuses to
/// rewrite it there, before any emulator starts, and says how to keep one.
#[test]
fn the_built_in_corpus_baselines_are_not_updated_in_the_cache() {
    let (_tmp, cache, _, out) = in_an_empty_dir(&[
        "run",
        "--target",
        "moto",
        "--update-baseline",
        "--filter",
        "sts::",
    ]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(2), "{shown}");
    assert!(
        shown.contains("inside the corpus built into conform: run `conform export DIR`"),
        "{shown}"
    );
    // The baseline in the cache is as the binary carries it, and no emulator was installed.
    let unpacked = std::fs::read_dir(&cache)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let kept = std::fs::read(unpacked.join("baselines/moto.toml")).unwrap();
    assert_eq!(
        kept,
        std::fs::read(repo().join("baselines/moto.toml")).unwrap()
    );
    assert!(!shown.contains("moto-venv"), "{shown}");
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A project with only a targets file: target `moto` is `conform serve` on the port conform
/// picks, writing its pid where the test can find it.
fn emulator_project(dir: &Path, command: &str, ready: &str) {
    std::fs::write(
        dir.join("conform.toml"),
        format!(
            "[targets.moto]\ncredentials = \"example\"\n\n[targets.moto.start]\n\
             command = [\"sh\", \"-c\", \"echo $$ > emulator.pid; exec {command}\", \"{{port}}\"]\n\
             ready = \"{ready}\"\nready_timeout = 60\nstop_timeout = 2\n\
             version = [\"sh\", \"-c\", \"echo fake-moto 1.0\"]\n"
        ),
    )
    .unwrap();
}

fn serve_command() -> String {
    format!("'{BIN}' serve --port \\\"$0\\\"")
}

fn pid_of_emulator(dir: &Path) -> u32 {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(t) = std::fs::read_to_string(dir.join("emulator.pid"))
            && let Ok(pid) = t.trim().parse()
        {
            return pid;
        }
        assert!(Instant::now() < deadline, "the emulator never started");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn alive(pid: u32) -> bool {
    // A reaped process has no /proc entry; a zombie would still count as left behind.
    Path::new(&format!("/proc/{pid}")).exists()
}

fn port_in(stderr: &str) -> u16 {
    let at = stderr
        .find("ready on http://127.0.0.1:")
        .unwrap_or_else(|| panic!("no ready line in {stderr}"));
    let rest = &stderr[at + "ready on http://127.0.0.1:".len()..];
    rest.split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

fn port_free(port: u16) -> bool {
    TcpStream::connect_timeout(
        &SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(500),
    )
    .is_err()
}

#[test]
fn run_target_starts_the_emulator_from_its_recipe_and_stops_it_at_the_end() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let project = tmp.path().join("emulator-repo");
    std::fs::create_dir(&project).unwrap();
    emulator_project(&project, &serve_command(), "/_conform/health");
    let out = conform(&project, &cache)
        .args(["run", "--target", "moto", "--report-json", "report.json"])
        .args(["sts::GetCallerIdentity"])
        .output()
        .unwrap();
    let shown = text(&out);
    assert!(out.status.success(), "{shown}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("starting moto from its recipe"), "{shown}");
    assert!(
        stderr.contains("fake-moto 1.0 ready on http://127.0.0.1:"),
        "{shown}"
    );
    assert!(shown.contains(" passed, 0 failed"), "{shown}");
    let report = std::fs::read_to_string(project.join("report.json")).unwrap();
    assert!(report.contains("\"fake-moto 1.0\""), "{report}");
    // Stopped: the process is gone and its port is free.
    let pid = pid_of_emulator(&project);
    assert!(!alive(pid), "the emulator ({pid}) was left running");
    assert!(port_free(port_in(&stderr)));
    // Its log and state live beside the targets file, as the recipe's relative paths do.
    assert!(project.join("target/emulators/moto").is_dir());
}

/// conform with its stderr read line by line until `line` shows.
fn spawn_until(cmd: &mut Command, line: &str) -> (Child, String) {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = String::new();
    for l in lines.by_ref() {
        let l = l.unwrap();
        seen.push_str(&l);
        seen.push('\n');
        if l.contains(line) {
            // Keep draining, so conform never blocks on a full pipe.
            std::thread::spawn(move || for _ in lines {});
            return (child, seen);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("conform never said {line:?}:\n{seen}");
}

fn wait_exit(child: &mut Child, within: Duration) -> Option<i32> {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("conform did not exit within {within:?} of the signal");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn signal(child: &Child, sig: i32) {
    // SAFETY: kill(2) on a child we spawned and have not reaped.
    unsafe {
        libc::kill(i32::try_from(child.id()).unwrap(), sig);
    }
}

#[test]
fn a_signal_during_the_run_stops_the_emulator() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    emulator_project(tmp.path(), &serve_command(), "/_conform/health");
    // The whole corpus, one case at a time: long enough to be under way at the signal.
    let (mut child, seen) = spawn_until(
        conform(tmp.path(), &cache).args(["run", "--target", "moto", "--grace", "5"]),
        " ready on ",
    );
    std::thread::sleep(Duration::from_millis(300));
    signal(&child, libc::SIGINT);
    assert_eq!(wait_exit(&mut child, Duration::from_secs(30)), Some(130));
    let pid = pid_of_emulator(tmp.path());
    assert!(!alive(pid), "the emulator ({pid}) was left running");
    assert!(port_free(port_in(&seen)));
}

#[test]
fn a_signal_while_the_emulator_comes_up_stops_it_and_runs_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    // Never ready: it only sleeps, so conform is still waiting for it at the signal.
    emulator_project(tmp.path(), "sleep 120", "/");
    let mut child = conform(tmp.path(), &cache)
        .args(["run", "--target", "moto"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = pid_of_emulator(tmp.path());
    signal(&child, libc::SIGTERM);
    assert_eq!(wait_exit(&mut child, Duration::from_secs(20)), Some(130));
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(
        stderr.contains("interrupted: moto was not started, nothing was run"),
        "{stderr}"
    );
    assert!(!alive(pid), "the emulator ({pid}) was left running");
}
