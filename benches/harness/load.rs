//! The load on `conform serve` (wrk, when installed), side by side with its floor: a bare
//! hyper server (this bench binary again, as a child) with the same runtime layout, one
//! single-threaded runtime per core each with its own `SO_REUSEPORT` listener, answering
//! every request with a fixed body of the same size class. No handler can make a server of
//! that stack faster than its floor, so the ratio says how much of the machine's HTTP
//! budget the replay itself spends, on whatever machine the bench runs.

use std::io::BufRead as _;
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::SystemTime;

use conform::sign;
use conform::transport::HttpRequest;

use crate::clients::{CONTENT_TYPE, default_credentials, installed};

/// How long each round loads a server, and how many rounds each gets, interleaved.
const ROUND_SECONDS: u32 = 4;
const ROUNDS: usize = 3;
const CONNECTIONS: usize = 8;

/// A GetCallerIdentity answer as the replay server writes one.
const FIXED_BODY: &str = "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/Alice</Arn><UserId>AKIAI44QH8DHBEXAMPLE</UserId><Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId></ResponseMetadata></GetCallerIdentityResponse>";

/// What a server sustained under wrk: requests per second and its CPU per request, the
/// medians of the rounds.
pub struct Rate {
    pub per_second: f64,
    pub cpu_us: f64,
}

/// `conform serve` and its floor, loaded in the same rounds.
pub struct Served {
    pub conform: Rate,
    pub floor: Rate,
    pub connections: usize,
    pub seconds: u32,
    pub rounds: usize,
}

/// Starts `conform serve` over the repository's corpus and the floor server, then loads
/// each in turn with wrk, 8 connections on one thread, each request a signed
/// GetCallerIdentity.
pub fn serve_load() -> Result<Served, String> {
    if !installed("wrk") {
        return Err("wrk is not installed (apt-get install wrk)".into());
    }
    let conform = Server::start(
        Command::new(crate::project::conform())
            .args(["serve", "--root"])
            .arg(crate::project::repo()),
        "conform serve",
    )?;
    let floor = Server::start(
        Command::new(std::env::current_exe().map_err(|e| e.to_string())?).arg("--bare-server"),
        "the floor server",
    )?;
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        ours.push(conform.load()?);
        theirs.push(floor.load()?);
    }
    Ok(Served {
        conform: median(ours),
        floor: median(theirs),
        connections: CONNECTIONS,
        seconds: ROUND_SECONDS,
        rounds: ROUNDS,
    })
}

fn median(mut rates: Vec<Rate>) -> Rate {
    let mid = rates.len() / 2;
    let mut cpu: Vec<f64> = rates.iter().map(|r| r.cpu_us).collect();
    cpu.sort_by(f64::total_cmp);
    rates.sort_by(|a, b| a.per_second.total_cmp(&b.per_second));
    Rate {
        per_second: rates[mid].per_second,
        cpu_us: cpu[mid],
    }
}

/// A server child that printed its address; killed when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(command: &mut Command, what: &str) -> Result<Server, String> {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {what}: {e}"))?;
        let out = child.stdout.take().unwrap();
        let mut lines = std::io::BufReader::new(out).lines();
        let url = lines.by_ref().map_while(Result::ok).find_map(|l| {
            let at = l.find("http://127.0.0.1:")?;
            Some(
                l[at..]
                    .split(|c: char| c.is_whitespace() || c == ')')
                    .next()?
                    .trim_end_matches('/')
                    .to_owned(),
            )
        });
        // Keep reading so the server never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        let mut server = Server {
            child,
            url: String::new(),
        };
        server.url = url.ok_or_else(|| format!("{what} printed no address"))?;
        Ok(server)
    }

    /// One round of wrk on this server.
    fn load(&self) -> Result<Rate, String> {
        let host = self.url.trim_start_matches("http://").to_owned();
        let body = "Action=GetCallerIdentity&Version=2011-06-15";
        let req = HttpRequest {
            method: "POST".into(),
            url: format!("{}/", self.url),
            headers: vec![
                ("host".into(), host),
                ("content-type".into(), CONTENT_TYPE.into()),
            ],
            body: body.as_bytes().to_vec(),
        };
        let signed = sign::sign_headers(
            &default_credentials(),
            "us-east-1",
            "sts",
            &req,
            SystemTime::now(),
        )
        .map_err(|e| e.to_string())?;
        let script = tempfile::NamedTempFile::new().map_err(|e| e.to_string())?;
        let mut lua = format!(
            "wrk.method = \"POST\"\nwrk.body = \"{body}\"\nwrk.headers[\"Content-Type\"] = \"{CONTENT_TYPE}\"\n"
        );
        for (k, v) in &signed {
            lua.push_str(&format!("wrk.headers[\"{k}\"] = \"{v}\"\n"));
        }
        std::fs::write(script.path(), lua).map_err(|e| e.to_string())?;
        let before = process_cpu(self.child.id());
        let ran = crate::child::run(
            Command::new("wrk")
                .args([
                    "-t1",
                    &format!("-c{CONNECTIONS}"),
                    &format!("-d{ROUND_SECONDS}s"),
                    "-s",
                ])
                .arg(script.path())
                .arg(format!("{}/", self.url)),
        );
        let after = process_cpu(self.child.id());
        if ran.code != 0 || ran.stdout.contains("Non-2xx") || ran.stdout.contains("Socket errors") {
            return Err(format!("wrk reported failures:\n{}", ran.stdout));
        }
        let total: f64 = ran
            .stdout
            .lines()
            .find(|l| l.contains(" requests in "))
            .and_then(|l| l.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| format!("cannot read wrk's request count:\n{}", ran.stdout))?;
        let per_second: f64 = ran
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix("Requests/sec:"))
            .and_then(|n| n.trim().parse().ok())
            .ok_or_else(|| format!("cannot read wrk's rate:\n{}", ran.stdout))?;
        Ok(Rate {
            per_second,
            cpu_us: (after - before) * 1e6 / total,
        })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A process's CPU seconds so far, from /proc (utime + stime, in clock ticks).
fn process_cpu(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // SAFETY: sysconf reads a constant.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    (ticks(11) + ticks(12)) / hz
}

/// `--bare-server`: the floor. Prints its address, then answers every request (its body
/// read whole, as the replay server reads it) with the fixed body until killed.
pub fn bare_server() -> ExitCode {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let addr = match std::net::TcpListener::bind(("127.0.0.1", 0)).and_then(|l| l.local_addr()) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("bench: the floor server cannot bind: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut handles = Vec::new();
    for _ in 0..threads {
        let socket = tokio::net::TcpSocket::new_v4().and_then(|s| {
            s.set_reuseaddr(true)?;
            s.set_reuseport(true)?;
            s.bind(addr)?;
            Ok(s)
        });
        let socket = match socket {
            Ok(s) => s,
            Err(e) => {
                eprintln!("bench: the floor server cannot bind {addr}: {e}");
                return ExitCode::FAILURE;
            }
        };
        handles.push(std::thread::spawn(move || floor_thread(socket)));
    }
    println!("floor server on http://{addr}");
    for h in handles {
        let _ = h.join();
    }
    ExitCode::SUCCESS
}

fn floor_thread(socket: tokio::net::TcpSocket) {
    use http_body_util::BodyExt as _;
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    runtime.block_on(async move {
        let Ok(listener) = socket.listen(1024) else {
            return;
        };
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(std::time::Duration::from_secs(30))
            .keep_alive(true);
        while let Ok((stream, _)) = listener.accept().await {
            let _ = stream.set_nodelay(true);
            let conn = http.serve_connection(
                hyper_util::rt::TokioIo::new(stream),
                hyper::service::service_fn(|req: hyper::Request<hyper::body::Incoming>| async {
                    let read = req.into_body().collect().await.map(|b| b.to_bytes().len());
                    let status = if read.is_ok() { 200 } else { 400 };
                    hyper::Response::builder()
                        .status(status)
                        .header("content-type", "text/xml")
                        .body(http_body_util::Full::new(hyper::body::Bytes::from_static(
                            FIXED_BODY.as_bytes(),
                        )))
                }),
            );
            tokio::spawn(async move {
                let _ = conn.await;
            });
        }
    });
}
