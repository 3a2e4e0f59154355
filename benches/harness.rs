//! `cargo xtask bench`: what the harness itself costs per case.
//!
//! 1,000 single-step cases run against an in-process endpoint that answers at once (the
//! wiremock STS stand-in of the tests). CPU time is process CPU (getrusage), so it holds the
//! endpoint's work too; a baseline in the same run sends the very same requests with a bare
//! HTTP client and no harness work, and the difference is the harness's own cost. Phases are
//! also measured alone, without the network. Nothing here asserts a time: it reports.

#[path = "../tests/common/mod.rs"]
mod common;

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use conform::normalize;
use conform::query;
use conform::redact::Redactor;
use conform::runner::{Outcome, Runner};
use conform::scenario::Request;
use conform::secrets::Secrets;
use conform::sign;
use conform::snapshot;
use conform::suite::{Layout, Suite};
use conform::target::Target;
use conform::transport::{HttpRequest, HttpResponse};

const CASES: usize = 1000;
const ROUNDS: usize = 3;

fn cpu_time() -> Duration {
    // SAFETY: getrusage only writes the struct we hand it.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, (t.tv_usec as u32) * 1000);
    tv(u.ru_utime) + tv(u.ru_stime)
}

struct Measure {
    cpu: Duration,
    wall: Duration,
}

fn measure<T>(f: impl FnOnce() -> T) -> (T, Measure) {
    let (c0, w0) = (cpu_time(), Instant::now());
    let out = f();
    (
        out,
        Measure {
            cpu: cpu_time() - c0,
            wall: w0.elapsed(),
        },
    )
}

fn per_case(d: Duration, n: usize) -> f64 {
    d.as_secs_f64() * 1e6 / n as f64
}

/// 1,000 cases in three shapes: the full AssumeRole doc example, a validation error and
/// GetCallerIdentity.
fn scenario_files() -> Vec<(String, String)> {
    let mut files = Vec::new();
    for (op, chunk) in [
        ("AssumeRole", 0),
        ("AssumeRole", 1),
        ("GetCallerIdentity", 2),
    ] {
        let mut yaml = String::from("cases:\n");
        for i in (0..CASES).filter(|i| i % 3 == chunk) {
            let steps = match chunk {
                0 => {
                    "      - operation: AssumeRole\n        params:\n          ExternalId: 123ABC\n          Policy: '{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"Stmt1\",\"Effect\":\"Allow\",\"Action\":\"s3:ListAllMyBuckets\",\"Resource\":\"*\"}]}'\n          RoleArn: '{{role_arn}}'\n          RoleSessionName: testAssumeRoleSession\n          Tags:\n            - {Key: Project, Value: Unicorn}\n            - {Key: Team, Value: Automation}\n            - {Key: Cost-Center, Value: '12345'}\n          TransitiveTagKeys: [Project, Cost-Center]\n"
                }
                1 => {
                    "      - operation: AssumeRole\n        params: {RoleArn: '{{role_arn}}', RoleSessionName: a}\n"
                }
                _ => "      - operation: GetCallerIdentity\n",
            };
            write!(yaml, "  - id: bench_{i:04}\n    kind: limit\n    provenance: inferred\n    description: benchmark case {i}\n    steps:\n{steps}").unwrap();
        }
        files.push((format!("scenarios/sts/{op}/bench_{chunk}.yaml"), yaml));
    }
    files
}

fn main() {
    let files = scenario_files();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let (_dir, root) = common::project(&refs);
    let layout = Layout::at(&root);
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let jobs = cores * 4;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let server = rt.block_on(common::start(common::Deviation::None));
    let endpoint = server.uri();
    let target = Target::at_endpoint(&endpoint, "us-east-1", |_| None).unwrap();

    // Record once so that the measured runs compare against stored snapshots.
    let suite = Arc::new(Suite::load(&layout).unwrap());
    let runner = Arc::new(Runner::new(Arc::clone(&suite), target.clone(), Secrets::new()).unwrap());
    let all: Vec<usize> = (0..suite.cases.len()).collect();
    assert_eq!(all.len(), CASES);
    for r in rt.block_on(runner.check_all(&all, jobs, |_| {})) {
        let new = snapshot::write_new(
            &suite.snapshots,
            &suite.cases[r.index],
            &r.run.transcript,
            |_| false,
        )
        .unwrap();
        std::fs::rename(&new, new.with_extension("")).unwrap();
    }

    let (suite, load) = measure(|| Suite::load(&layout).unwrap());
    let (_, load_snaps) = measure(|| snapshot::SnapshotStore::load(&layout.snapshots).unwrap());
    let suite = Arc::new(suite);
    let runner = Arc::new(Runner::new(Arc::clone(&suite), target.clone(), Secrets::new()).unwrap());

    // Bodies the harness sends, prepared up front for the baseline.
    let model = &suite.models["sts"];
    let bodies: Vec<Vec<u8>> = suite
        .cases
        .iter()
        .map(|c| match &c.steps[0].request {
            Request::Call { operation, params } => query::encode(
                &query::serialize(
                    model,
                    model.operation(operation).unwrap(),
                    params,
                    &target.vars,
                )
                .unwrap()
                .pairs,
            )
            .into_bytes(),
            Request::Raw(_) => unreachable!("bench cases are calls"),
        })
        .collect();
    let client = reqwest::Client::new();

    let mut runs = Vec::new();
    let mut bases = Vec::new();
    let mut answers: Vec<String> = Vec::new();
    for _ in 0..ROUNDS {
        let (results, m) = measure(|| rt.block_on(runner.check_all(&all, jobs, |_| {})));
        let passed = results
            .iter()
            .filter(|r| r.outcome == Outcome::Pass)
            .count();
        if passed != CASES {
            eprintln!(
                "bench: only {passed} of {CASES} cases passed; the numbers would mean nothing"
            );
            std::process::exit(1);
        }
        runs.push(m);
        let (got, m) = measure(|| bare_run(&rt, &client, &endpoint, &bodies, jobs));
        answers = got;
        bases.push(m);
    }
    drop(runner);

    // The same cases against an endpoint whose every answer deviates (another namespace):
    // what a failing case costs on top of a passing one (the diff, the deviations).
    let deviating = rt.block_on(common::start(common::Deviation::WrongNamespace));
    let deviating_target = Target::at_endpoint(&deviating.uri(), "us-east-1", |_| None).unwrap();
    let deviating_runner =
        Arc::new(Runner::new(Arc::clone(&suite), deviating_target, Secrets::new()).unwrap());
    let mut failing_runs = Vec::new();
    let mut failing_bases = Vec::new();
    let mut deviated = 0;
    let mut deviating_transcripts = Vec::new();
    for _ in 0..ROUNDS {
        let (results, m) = measure(|| rt.block_on(deviating_runner.check_all(&all, jobs, |_| {})));
        deviating_transcripts = results
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Fail { .. }))
            .map(|r| (r.index, snapshot::normalize_contents(&r.run.transcript)))
            .collect();
        let failed = results
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Fail { .. }))
            .count();
        // Error answers keep their namespace: two cases in three deviate.
        if failed < CASES / 2 {
            eprintln!("bench: only {failed} of {CASES} cases deviated");
            std::process::exit(1);
        }
        deviated = failed;
        failing_runs.push(m);
        let (_, m) = measure(|| bare_run(&rt, &client, &deviating.uri(), &bodies, jobs));
        failing_bases.push(m);
    }
    drop(deviating);

    let best = |v: &[Measure]| v.iter().map(|m| m.cpu).min().unwrap();
    let best_wall = |v: &[Measure]| v.iter().map(|m| m.wall).min().unwrap();
    let (run_cpu, base_cpu) = (best(&runs), best(&bases));

    // Phases alone, one thread, no network.
    let creds = target.credentials.clone();
    let headers = vec![
        ("host".to_owned(), target.host()),
        (
            "content-type".to_owned(),
            "application/x-www-form-urlencoded; charset=utf-8".to_owned(),
        ),
    ];
    let (_, ser_sign) = measure(|| {
        for c in &suite.cases {
            if let Request::Call { operation, params } = &c.steps[0].request {
                let pairs = query::serialize(
                    model,
                    model.operation(operation).unwrap(),
                    params,
                    &target.vars,
                )
                .unwrap()
                .pairs;
                let body = query::encode(&pairs);
                let req = HttpRequest {
                    method: "POST".into(),
                    url: endpoint.clone(),
                    headers: headers.clone(),
                    body: body.into_bytes(),
                };
                let h = sign::sign_headers(&creds, "us-east-1", "sts", &req, SystemTime::now())
                    .unwrap();
                std::hint::black_box(h);
            }
        }
    });
    let rules = &suite.rules["sts"];
    let (_, norm_cmp) = measure(|| {
        for (c, body) in suite.cases.iter().zip(&answers) {
            let resp = HttpResponse {
                status: if body.contains("ErrorResponse") {
                    400
                } else {
                    200
                },
                reason: if body.contains("ErrorResponse") {
                    "Bad Request".into()
                } else {
                    "OK".into()
                },
                content_type: Some("text/xml".into()),
                body: body.clone(),
            };
            let mut redactor = Redactor::new(rules, &target.vars);
            let n = normalize::response(&resp, &mut redactor, SystemTime::now());
            let transcript = format!("=== step 1: {}\n{}", c.operation, n.text);
            std::hint::black_box(suite.snapshots.compare(c, &transcript));
        }
    });

    // What a deviating case costs beyond a passing one, alone: the unified diff for people,
    // and the deviations the gate judges.
    // Short loops, and CPU time that the kernel may count in ticks: each measure repeats
    // the loop 20 times (figures are per pass), the best of 5 on a shared machine.
    const PASSES: u32 = 20;
    let best_of = |f: &dyn Fn()| {
        (0..5)
            .map(|_| {
                measure(|| {
                    for _ in 0..PASSES {
                        f()
                    }
                })
                .1
                .cpu / PASSES
            })
            .min()
            .unwrap_or_default()
    };
    let diffs = best_of(&|| {
        for (i, t) in &deviating_transcripts {
            std::hint::black_box(suite.snapshots.compare(&suite.cases[*i], t));
        }
    });
    let devs = best_of(&|| {
        for (i, t) in &deviating_transcripts {
            let expected = suite
                .snapshots
                .expected(&suite.cases[*i])
                .unwrap_or_default();
            std::hint::black_box(conform::deviation::between(expected, t));
        }
    });

    let harness = per_case(run_cpu.saturating_sub(base_cpu), CASES);
    println!(
        "conform harness benchmark: {CASES} single-step cases, in-process endpoint on loopback, {jobs} jobs, best of {ROUNDS}"
    );
    println!(
        "  load (models, {CASES} scenarios, {CASES} snapshots): {:>7.1} us CPU per case",
        per_case(load.cpu, CASES)
    );
    println!(
        "    of which reading snapshots:      {:>7.1} us CPU per case",
        per_case(load_snaps.cpu, CASES)
    );
    println!(
        "  full run:                          {:>7.1} us CPU per case, {:>6.0} cases/s (harness + endpoint)",
        per_case(run_cpu, CASES),
        CASES as f64 / best_wall(&runs).as_secs_f64()
    );
    println!(
        "  baseline, bare HTTP client:        {:>7.1} us CPU per case, {:>6.0} requests/s (endpoint + HTTP only)",
        per_case(base_cpu, CASES),
        CASES as f64 / best_wall(&bases).as_secs_f64()
    );
    println!(
        "  harness's own cost:                {:>7.1} us CPU per case ({:.2}x the baseline's CPU)",
        harness,
        run_cpu.as_secs_f64() / base_cpu.as_secs_f64()
    );
    let (fail_cpu, fail_base) = (best(&failing_runs), best(&failing_bases));
    println!(
        "  {deviated} of {CASES} answers deviating:   {:>7.1} us CPU per case of harness ({:.2}x the baseline's CPU)",
        per_case(fail_cpu.saturating_sub(fail_base), CASES),
        fail_cpu.as_secs_f64() / fail_base.as_secs_f64()
    );
    println!("  phases alone (one thread, no network):");
    println!(
        "    serialize + sign:                {:>7.1} us per case",
        per_case(ser_sign.cpu, CASES)
    );
    println!(
        "    normalize + redact + compare:    {:>7.1} us per case",
        per_case(norm_cmp.cpu, CASES)
    );
    let n = deviating_transcripts.len().max(1);
    println!(
        "    a deviating case's diff:         {:>7.1} us per case",
        per_case(diffs, n)
    );
    println!(
        "    a deviating case's deviations:   {:>7.1} us per case",
        per_case(devs, n)
    );
    drop(server);

    // The replay server's throughput: the same 1,000 cases, now answered from their
    // snapshots, then a bare load of signed GetCallerIdentity requests.
    // Started as every run starts it (the binary and the test harness alike).
    let plan = rt
        .block_on(conform::plan::Plan::new(
            &suite,
            conform::plan::PlanOptions::default(),
            |_| None,
        ))
        .unwrap();
    let replay_server = &plan.built_in.as_ref().expect("a replay server").server;
    let replay_runner =
        Arc::new(Runner::new(Arc::clone(&suite), plan.target.clone(), Secrets::new()).unwrap());
    let (results, m) = measure(|| rt.block_on(replay_runner.check_all(&all, jobs, |_| {})));
    let passed = results
        .iter()
        .filter(|r| r.outcome == Outcome::Pass)
        .count();
    println!(
        "  replay server, full run:           {:>7.1} us CPU per case, {:>6.0} cases/s ({passed} of {CASES} passed)",
        per_case(m.cpu, CASES),
        CASES as f64 / m.wall.as_secs_f64()
    );
    let load = 5_000;
    let body = "Action=GetCallerIdentity&Version=2011-06-15";
    let (_, m) = measure(|| {
        rt.block_on(async {
            let limit = Arc::new(tokio::sync::Semaphore::new(64));
            let mut set = tokio::task::JoinSet::new();
            for _ in 0..load {
                let (client, limit, url, creds) = (
                    client.clone(),
                    Arc::clone(&limit),
                    replay_server.uri(),
                    creds.clone(),
                );
                set.spawn(async move {
                    let _p = limit.acquire_owned().await.unwrap();
                    let host = url.trim_start_matches("http://").to_owned();
                    let req = HttpRequest {
                        method: "POST".into(),
                        url: format!("{url}/"),
                        headers: vec![
                            ("host".into(), host),
                            (
                                "content-type".into(),
                                "application/x-www-form-urlencoded; charset=utf-8".into(),
                            ),
                        ],
                        body: body.as_bytes().to_vec(),
                    };
                    let signed =
                        sign::sign_headers(&creds, "us-east-1", "sts", &req, SystemTime::now())
                            .unwrap();
                    let mut b = client.post(&req.url).body(req.body.clone());
                    for (k, v) in req.headers.iter().chain(signed.iter()) {
                        b = b.header(k, v);
                    }
                    b.send().await.unwrap().status().as_u16()
                });
            }
            let mut ok = 0;
            while let Some(Ok(status)) = set.join_next().await {
                ok += usize::from(status == 200);
            }
            assert_eq!(ok, load, "every request of the load is answered");
        })
    });
    println!(
        "  replay server under load:          {:>6.0} requests/s ({load} signed requests, 64 in flight, client and server on 2 cores)",
        load as f64 / m.wall.as_secs_f64()
    );
}

/// The baseline: the very same request bodies sent with a bare HTTP client, no harness work.
fn bare_run(
    rt: &tokio::runtime::Runtime,
    client: &reqwest::Client,
    endpoint: &str,
    bodies: &[Vec<u8>],
    jobs: usize,
) -> Vec<String> {
    rt.block_on(async {
        let limit = Arc::new(tokio::sync::Semaphore::new(jobs));
        let mut set = tokio::task::JoinSet::new();
        for (i, body) in bodies.iter().enumerate() {
            let (client, limit, url, body) = (
                client.clone(),
                Arc::clone(&limit),
                endpoint.to_owned(),
                body.clone(),
            );
            set.spawn(async move {
                let _p = limit.acquire_owned().await.unwrap();
                let r = client
                    .post(&url)
                    .header(
                        "content-type",
                        "application/x-www-form-urlencoded; charset=utf-8",
                    )
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                (i, r.text().await.unwrap())
            });
        }
        let mut out = vec![String::new(); bodies.len()];
        while let Some(Ok((i, t))) = set.join_next().await {
            out[i] = t;
        }
        out
    })
}
