//! The baselines a run is compared with, over the very same requests: `curl --next` (when
//! curl is installed) and a bare HTTP client (this bench binary again, as a child), both
//! signing every request as conform does; and the load on `conform serve` (wrk, when
//! installed).

use std::io::Write as _;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::SystemTime;

use conform::sign::{self, Credentials};
use conform::transport::HttpRequest;

const CONTENT_TYPE: &str = "application/x-www-form-urlencoded; charset=utf-8";

/// Whether `program` runs here.
pub fn installed(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok()
}

/// A curl config sending every body, signed, over one connection (`next` between them),
/// printing each answer's status.
pub fn curl_config(path: &Path, url: &str, creds: &Credentials, bodies: &[String]) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for (i, body) in bodies.iter().enumerate() {
        if i > 0 {
            writeln!(f, "next").unwrap();
        }
        // Bodies are form-encoded: nothing in them needs quoting in a curl config.
        writeln!(
            f,
            "url = \"{url}\"\ndata-binary = \"{body}\"\nheader = \"Content-Type: {CONTENT_TYPE}\"\naws-sigv4 = \"aws:amz:us-east-1:sts\"\nuser = \"{}:{}\"\noutput = \"/dev/null\"\nwrite-out = \"%{{http_code}}\\n\"",
            creds.access_key_id, creds.secret_access_key
        )
        .unwrap();
    }
    f.flush().unwrap();
}

/// Answers counted in a client's output, one status per line, and how many were not 2xx/4xx
/// as expected: a baseline that failed would flatter conform.
pub fn statuses(stdout: &str) -> usize {
    stdout
        .lines()
        .filter(|l| l.starts_with('2') || l.starts_with('4'))
        .count()
}

/// The bare client, run as `harness --bare-client URL BODIES JOBS` in a child: each line of
/// BODIES signed and sent, JOBS in flight, one line per answer's status on stdout.
pub fn bare_client(args: &[String]) -> std::process::ExitCode {
    let [url, bodies, jobs] = args else {
        eprintln!("usage: harness --bare-client URL BODIES JOBS");
        return std::process::ExitCode::from(2);
    };
    let bodies: Vec<String> = std::fs::read_to_string(bodies)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let jobs: usize = jobs.parse().unwrap();
    let creds = Arc::new(default_credentials());
    let host = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let codes = rt.block_on(async {
        let client = reqwest::Client::new();
        let limit = Arc::new(tokio::sync::Semaphore::new(jobs));
        let mut set = tokio::task::JoinSet::new();
        for body in bodies {
            let (client, limit, url, host, creds) = (
                client.clone(),
                Arc::clone(&limit),
                url.clone(),
                host.clone(),
                Arc::clone(&creds),
            );
            set.spawn(async move {
                let _slot = limit.acquire_owned().await.unwrap();
                let req = HttpRequest {
                    method: "POST".into(),
                    url: url.clone(),
                    headers: vec![
                        ("host".into(), host),
                        ("content-type".into(), CONTENT_TYPE.into()),
                    ],
                    body: body.into_bytes(),
                };
                let signed =
                    sign::sign_headers(&creds, "us-east-1", "sts", &req, SystemTime::now())
                        .unwrap();
                let mut b = client.post(&url).body(req.body);
                for (k, v) in req.headers.iter().skip(1).chain(signed.iter()) {
                    b = b.header(k, v);
                }
                let r = b.send().await.unwrap();
                let status = r.status().as_u16();
                let _ = r.bytes().await;
                status
            });
        }
        let mut codes = Vec::new();
        while let Some(Ok(status)) = set.join_next().await {
            codes.push(status);
        }
        codes
    });
    let mut out = std::io::stdout().lock();
    for c in codes {
        writeln!(out, "{c}").unwrap();
    }
    std::process::ExitCode::SUCCESS
}

/// The keys a run against an endpoint signs with when none are given.
pub fn default_credentials() -> Credentials {
    conform::target::Target::at_endpoint("http://127.0.0.1:1", "us-east-1", |_| None)
        .unwrap()
        .credentials
}

/// What `conform serve` sustained under wrk: requests per second and the server's CPU per
/// request, or why it was not measured.
pub struct Served {
    pub per_second: f64,
    pub cpu_us: f64,
    pub connections: usize,
}

/// Starts `conform serve` over the repository's corpus and loads it for `seconds` with wrk,
/// 8 connections on one thread, each request a signed GetCallerIdentity.
pub fn serve_load(seconds: u32) -> Result<Served, String> {
    if !installed("wrk") {
        return Err("wrk is not installed (apt-get install wrk)".into());
    }
    let mut server = Command::new(crate::project::conform())
        .args(["serve", "--root"])
        .arg(crate::project::repo())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start conform serve: {e}"))?;
    let url = {
        use std::io::BufRead as _;
        let out = server.stdout.take().unwrap();
        let mut lines = std::io::BufReader::new(out).lines();
        let found = lines.by_ref().map_while(Result::ok).find_map(|l| {
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
        found
    };
    let result = (|| {
        let url = url.ok_or("conform serve printed no address")?;
        let host = url.trim_start_matches("http://").to_owned();
        let body = "Action=GetCallerIdentity&Version=2011-06-15";
        let req = HttpRequest {
            method: "POST".into(),
            url: format!("{url}/"),
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
        let before = process_cpu(server.id());
        let connections = 8;
        let ran = crate::child::run(
            Command::new("wrk")
                .args([
                    "-t1",
                    &format!("-c{connections}"),
                    &format!("-d{seconds}s"),
                    "-s",
                ])
                .arg(script.path())
                .arg(format!("{url}/")),
        );
        let after = process_cpu(server.id());
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
        Ok(Served {
            per_second,
            cpu_us: (after - before) * 1e6 / total,
            connections,
        })
    })();
    let _ = server.kill();
    let _ = server.wait();
    result
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
