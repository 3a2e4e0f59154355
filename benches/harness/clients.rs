//! The baselines a run is compared with, over the very same requests: `curl --next` (when
//! curl is installed) and a bare HTTP client (this bench binary again, as a child), both
//! signing every request as conform does.

use std::io::Write as _;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::SystemTime;

use conform::sign::{self, Credentials};
use conform::transport::HttpRequest;

pub const CONTENT_TYPE: &str = "application/x-www-form-urlencoded; charset=utf-8";

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
