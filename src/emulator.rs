//! A local emulator brought up from its recipe in the targets file: installed, started on a
//! free loopback port in a process group of its own, polled until it answers, and stopped
//! (SIGTERM to the group, SIGKILL after a grace period) however the run ends.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::targets::Launch;

#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("`{name}`: the install step `{command}` failed ({status}); run it by hand to see why")]
    Install {
        name: String,
        command: String,
        status: String,
    },
    #[error("`{name}`: cannot run `{program}`: {source}")]
    Spawn {
        name: String,
        program: String,
        source: std::io::Error,
    },
    #[error("`{name}` exited ({status}) before it was ready; the end of its log ({log}):\n{tail}")]
    Exited {
        name: String,
        status: String,
        log: PathBuf,
        tail: String,
    },
    #[error(
        "`{name}` did not answer GET {path} with 2xx within {secs} s; the end of its log ({log}):\n{tail}"
    )]
    NotReady {
        name: String,
        path: String,
        secs: u64,
        log: PathBuf,
        tail: String,
    },
    #[error("`{name}` was not started: interrupted while it was being brought up")]
    Interrupted { name: String },
    #[error("`{name}`: {what}: {source}")]
    Io {
        name: String,
        what: String,
        source: std::io::Error,
    },
}

/// A running emulator. Dropping it stops it.
#[derive(Debug)]
pub struct Emulator {
    url: String,
    log: PathBuf,
    stopper: Stopper,
}

/// Stops the emulator from anywhere (a signal handler's thread included); stopping twice is
/// harmless.
#[derive(Debug, Clone)]
pub struct Stopper {
    child: Arc<Mutex<Option<Child>>>,
    grace: Duration,
    /// Removed once the process is gone; the log stays for whoever reads it next.
    state: PathBuf,
}

impl Emulator {
    /// Installs (when the recipe says how), starts and waits for `name` as `launch` says;
    /// `dir` is the targets file's directory. Its output goes to
    /// `dir/target/emulators/<name>/<port>/server.log`, its `{state}` is `state/` beside it.
    pub fn start(name: &str, launch: &Launch, dir: &Path) -> Result<Emulator, EmulatorError> {
        Emulator::start_unless(name, launch, dir, &|| false)
    }

    /// [`Emulator::start`], given up as soon as `interrupted` says so (a Ctrl-C while moto
    /// installs or LocalStack takes a minute to answer): the install step and the emulator
    /// are stopped, nothing is left running.
    pub fn start_unless(
        name: &str,
        launch: &Launch,
        dir: &Path,
        interrupted: &dyn Fn() -> bool,
    ) -> Result<Emulator, EmulatorError> {
        let io = |what: String| {
            let name = name.to_owned();
            move |source| EmulatorError::Io { name, what, source }
        };
        if let Some((program, args)) = launch.install.split_first() {
            let mut install = Command::new(resolve(program, dir))
                .args(args)
                .current_dir(dir)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .spawn()
                .map_err(|source| EmulatorError::Spawn {
                    name: name.to_owned(),
                    program: program.clone(),
                    source,
                })?;
            let status = loop {
                if let Some(status) = install
                    .try_wait()
                    .map_err(io("cannot wait for the install step".into()))?
                {
                    break status;
                }
                if interrupted() {
                    let _ = install.kill();
                    let _ = install.wait();
                    return Err(EmulatorError::Interrupted {
                        name: name.to_owned(),
                    });
                }
                std::thread::sleep(Duration::from_millis(50));
            };
            if !status.success() {
                return Err(EmulatorError::Install {
                    name: name.to_owned(),
                    command: launch.install.join(" "),
                    status: status.to_string(),
                });
            }
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(io("cannot find a free loopback port".into()))?
            .port();
        // One directory per port, so runs side by side (shards) keep their state and logs
        // apart.
        let home = dir
            .join("target")
            .join("emulators")
            .join(name)
            .join(port.to_string());
        let state = home.join("state");
        // A fresh state directory each time: a run must not see what the last one created.
        if state.exists() {
            std::fs::remove_dir_all(&state)
                .map_err(io(format!("cannot clear {}", state.display())))?;
        }
        std::fs::create_dir_all(&state)
            .map_err(io(format!("cannot create {}", state.display())))?;
        let log = home.join("server.log");
        let out =
            std::fs::File::create(&log).map_err(io(format!("cannot create {}", log.display())))?;
        let err = out.try_clone().map_err(io("cannot share the log".into()))?;
        let fill = |s: &String| {
            s.replace("{port}", &port.to_string())
                .replace("{state}", &state.display().to_string())
        };
        let command: Vec<String> = launch.command.iter().map(fill).collect();
        let Some((program, args)) = command.split_first() else {
            return Err(EmulatorError::Spawn {
                name: name.to_owned(),
                program: String::new(),
                source: std::io::Error::other("the recipe's command is empty"),
            });
        };
        let mut cmd = Command::new(resolve(program, dir));
        cmd.args(args)
            .current_dir(dir)
            .envs(launch.env.iter().map(|(k, v)| (k, fill(v))))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        // Its own process group, so stopping reaches whatever workers it forks.
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let child = cmd.spawn().map_err(|source| EmulatorError::Spawn {
            name: name.to_owned(),
            program: program.clone(),
            source,
        })?;
        let emulator = Emulator {
            url: format!("http://127.0.0.1:{port}"),
            log: log.clone(),
            stopper: Stopper {
                child: Arc::new(Mutex::new(Some(child))),
                grace: Duration::from_secs(launch.stop_timeout),
                state: state.clone(),
            },
        };
        let deadline = Instant::now() + Duration::from_secs(launch.ready_timeout);
        loop {
            if let Some(status) = emulator.stopper.exited() {
                return Err(EmulatorError::Exited {
                    name: name.to_owned(),
                    status,
                    tail: tail(&log),
                    log,
                });
            }
            if answers(port, &launch.ready) {
                return Ok(emulator);
            }
            if interrupted() {
                // `emulator` drops here and stops the process.
                return Err(EmulatorError::Interrupted {
                    name: name.to_owned(),
                });
            }
            if Instant::now() >= deadline {
                // `emulator` drops here and stops the process.
                return Err(EmulatorError::NotReady {
                    name: name.to_owned(),
                    path: launch.ready.clone(),
                    secs: launch.ready_timeout,
                    tail: tail(&log),
                    log,
                });
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn log(&self) -> &Path {
        &self.log
    }

    /// The process id (also its process group's id).
    pub fn pid(&self) -> Option<u32> {
        self.stopper
            .child
            .lock()
            .ok()?
            .as_ref()
            .map(std::process::Child::id)
    }

    pub fn stopper(&self) -> Stopper {
        self.stopper.clone()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stopper.stop();
    }
}

impl Stopper {
    /// SIGTERM to the process group, SIGKILL when it has not gone after the grace period
    /// (LocalStack sometimes hangs on SIGTERM), then reaps the process.
    pub fn stop(&self) {
        let Ok(mut guard) = self.child.lock() else {
            return;
        };
        let Some(mut child) = guard.take() else {
            return;
        };
        let pid = child.id();
        signal_group(pid, Signal::Term);
        let deadline = Instant::now() + self.grace;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // Also reaches workers the leader left behind when it exited on SIGTERM.
        signal_group(pid, Signal::Kill);
        let _ = child.kill();
        let _ = child.wait();
        let _ = std::fs::remove_dir_all(&self.state);
    }

    /// The exit status when the process has already ended.
    fn exited(&self) -> Option<String> {
        let mut guard = self.child.lock().ok()?;
        let child = guard.as_mut()?;
        match child.try_wait() {
            Ok(Some(status)) => Some(status.to_string()),
            _ => None,
        }
    }
}

enum Signal {
    Term,
    Kill,
}

#[cfg(unix)]
fn signal_group(pid: u32, signal: Signal) {
    let sig = match signal {
        Signal::Term => libc::SIGTERM,
        Signal::Kill => libc::SIGKILL,
    };
    if let Ok(pid) = i32::try_from(pid) {
        // SAFETY: kill(2) with a negative pid signals that process group; it touches no memory.
        unsafe {
            libc::kill(-pid, sig);
        }
    }
}

#[cfg(not(unix))]
fn signal_group(_pid: u32, _signal: Signal) {}

/// What the recipe's `version` command prints (`moto 5.2.5`), when it has one that works.
pub fn version(launch: &Launch, dir: &Path) -> Option<String> {
    let (program, args) = launch.version.split_first()?;
    let out = Command::new(resolve(program, dir))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    (out.status.success() && !text.is_empty()).then_some(text)
}

/// A program named by a relative path is relative to the targets file, not to wherever
/// conform was started.
fn resolve(program: &str, dir: &Path) -> PathBuf {
    if program.contains('/') && Path::new(program).is_relative() {
        dir.join(program)
    } else {
        PathBuf::from(program)
    }
}

/// Whether GET `path` on the port answers with a 2xx status.
fn answers(port: u16, path: &str) -> bool {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let Ok(mut c) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) else {
        return false;
    };
    let _ = c.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n");
    if c.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    if c.read_exact(&mut head).is_err() {
        return false;
    }
    // "HTTP/1.1 200"
    head.starts_with(b"HTTP/") && head[9] == b'2'
}

/// The last lines of a log, for an error message.
fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(15);
    if lines.is_empty() {
        "  (empty)".to_owned()
    } else {
        lines[start..]
            .iter()
            .map(|l| format!("  {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}
