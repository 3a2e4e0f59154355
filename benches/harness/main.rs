//! `cargo xtask bench`: what conform costs per case, and how each cost grows with the suite.
//!
//! Every figure is measured at 1,000 and at 10,000 cases, and shown with its growth exponent
//! (1 is linear) and beside a baseline from the same run: clients run as child processes
//! against a canned endpoint in this process, so the kernel's accounting (`wait4`) gives
//! each one's own CPU, wall time and peak memory. The baselines send the very same signed
//! requests: `curl --next` when curl is installed, and a bare reqwest client always. Then the
//! repository's own corpus: `conform check`, one case from start, and `conform serve` under
//! wrk beside its floor (`load`: a bare server of the same HTTP stack). Nothing here fails on an absolute time: only a growth exponent above 1.2 fails
//! (`--short`, in CI), because times move with the machine and growth does not.
//!
//! Options: `--short` (fewer rounds, no serve load), `--out FILE` (the figures as Markdown),
//! `--readme` (also replace the README's quoted figures).

#[path = "../../tests/common/mod.rs"]
mod common;

mod child;
mod clients;
mod endpoint;
mod figures;
mod load;
mod project;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Duration;

use conform::query;
use conform::scenario::Request;
use conform::suite::{Layout, Suite};
use conform::target::Target;

use figures::{Figures, Fixed, GROWTH_LIMIT, Scaled, Unit};

/// The two suite sizes, unless `--sizes SMALL,BIG` says otherwise (for a quick look).
const SIZES: [usize; 2] = [1_000, 10_000];
const JOBS: usize = 8;
/// The corpus case timed from start.
const ONE_CASE: &str = "sts::AssumeRole::assume_role_inline_policy";

/// Each figure of one suite size: the least over the rounds (noise only ever adds).
#[derive(Default)]
struct AtSize {
    load: Vec<Duration>,
    run: Vec<Duration>,
    run_rss: Vec<u64>,
    fresh: Vec<Duration>,
    replay_cpu: Vec<Duration>,
    replay_wall: Vec<Duration>,
    replay_rss: Vec<u64>,
    check: Vec<Duration>,
    curl: Vec<Duration>,
    bare: Vec<Duration>,
}

fn least<T: Ord + Copy + Default>(v: &[T]) -> T {
    v.iter().copied().min().unwrap_or_default()
}

fn secs(v: &[Duration]) -> f64 {
    least(v).as_secs_f64()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--measure") {
        return child::measure(&args[1..]);
    }
    if args.first().map(String::as_str) == Some("--bare-client") {
        return clients::bare_client(&args[1..]);
    }
    if args.first().map(String::as_str) == Some("--bare-server") {
        return load::bare_server();
    }
    let short = args.iter().any(|a| a == "--short");
    let out = args
        .iter()
        .position(|a| a == "--out")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from);
    let readme = args.iter().any(|a| a == "--readme");
    let rounds = if short { 2 } else { 3 };
    let sizes = match args
        .iter()
        .position(|a| a == "--sizes")
        .and_then(|i| args.get(i + 1))
    {
        None => SIZES,
        Some(v) => match v.split_once(',').map(|(a, b)| (a.parse(), b.parse())) {
            Some((Ok(a), Ok(b))) if 0 < a && a < b => [a, b],
            _ => {
                eprintln!(
                    "bench: --sizes takes SMALL,BIG with 0 < SMALL < BIG, e.g. 300,3000; got {v}"
                );
                return ExitCode::from(2);
            }
        },
    };

    project::sweep_leftovers();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let plain = endpoint::start(&rt, false);
    let fresh = endpoint::start(&rt, true);
    let curl = clients::installed("curl");
    let creds = clients::default_credentials();
    let conform = project::conform();
    let me = std::env::current_exe().unwrap();

    let mut at: Vec<AtSize> = Vec::new();
    for n in sizes {
        eprintln!("bench: {n} cases: writing the project and recording its snapshots");
        let project = project::generate(n);
        project.record(&plain.url);
        let layout = Layout::at(&project.root);
        let bodies = bodies(&layout);
        let scratch = tempfile::tempdir().unwrap();
        let bodies_file = scratch.path().join("bodies");
        std::fs::write(&bodies_file, bodies.join("\n")).unwrap();
        let curl_file = scratch.path().join("curl.cfg");
        clients::curl_config(&curl_file, &plain.url, &creds, &bodies);
        let root = project.root.to_str().unwrap();

        let mut m = AtSize::default();
        for round in 1..=rounds {
            eprintln!("bench: {n} cases: round {round} of {rounds}");
            let t = cpu_of(|| Suite::load(&layout).unwrap());
            m.load.push(t);

            // `conform run` on the project, against `endpoint` or the built-in replay.
            let run = |what: &str, endpoint: Option<&str>| {
                let mut cmd = Command::new(conform);
                cmd.args([
                    "run",
                    "--no-new",
                    "--jobs",
                    &JOBS.to_string(),
                    "--root",
                    root,
                ]);
                cmd.args(endpoint.map(|e| ["--endpoint", e]).into_iter().flatten());
                child::ok(what, &mut cmd)
            };
            let ran = run("conform run against the canned endpoint", Some(&plain.url));
            m.run.push(ran.cpu);
            m.run_rss.push(ran.max_rss_kb);
            let ran = run(
                "conform run against the endpoint that hands out fresh credentials",
                Some(&fresh.url),
            );
            m.fresh.push(ran.cpu);
            let ran = run("conform run on the built-in replay server", None);
            m.replay_cpu.push(ran.cpu);
            m.replay_wall.push(ran.wall);
            m.replay_rss.push(ran.max_rss_kb);

            // The bench's project leaves members without limit cases: check says so and exits 1.
            let ran = child::run(Command::new(conform).args(["check", "--root", root]));
            if ran.code > 1 || !ran.stdout.contains(&format!("{n} cases in")) {
                child::fail("conform check did not read the project", &ran);
            }
            m.check.push(ran.cpu);

            if curl {
                let ran = child::ok(
                    "curl",
                    Command::new("curl").arg("-s").arg("-K").arg(&curl_file),
                );
                if clients::statuses(&ran.stdout) != n {
                    child::fail("curl did not get every answer", &ran);
                }
                m.curl.push(ran.cpu);
            }
            let ran = child::ok(
                "the bare client",
                Command::new(&me)
                    .arg("--bare-client")
                    .arg(&plain.url)
                    .arg(&bodies_file)
                    .arg(JOBS.to_string()),
            );
            if clients::statuses(&ran.stdout) != n {
                child::fail("the bare client did not get every answer", &ran);
            }
            m.bare.push(ran.cpu);
        }
        at.push(m);
    }

    let figures = figures(sizes, &at, curl, short);
    let date = time::OffsetDateTime::now_utc().date();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let text = format!(
        "Measured by `cargo xtask bench{}` on {date}, {cores} cores, {JOBS} jobs, least of {rounds} rounds.\n\n{}",
        if short { " --short" } else { "" },
        figures.markdown()
    );
    println!("{text}");
    if let Some(out) = &out {
        write_atomically(out, &page(&text));
        eprintln!("bench: wrote {}", out.display());
    }
    if readme {
        quote_in_readme(&text);
    }
    let steep = figures.too_steep();
    if steep.is_empty() {
        ExitCode::SUCCESS
    } else {
        for s in steep {
            eprintln!(
                "bench: {} grows with exponent {:.2} from {} to {} cases (limit {GROWTH_LIMIT}): a cost grows faster than the suite",
                s.what,
                figures.growth_of(s),
                sizes[0],
                sizes[1]
            );
        }
        ExitCode::FAILURE
    }
}

fn figures(sizes: [usize; 2], at: &[AtSize], curl: bool, short: bool) -> Figures {
    let (s, b) = (&at[0], &at[1]);
    let cases = (sizes[1] - sizes[0]) as f64;
    // What one more case costs: the difference between the sizes, so start-up drops out.
    let marginal = |small: &[Duration], big: &[Duration]| (secs(big) - secs(small)) * 1e6 / cases;
    let run_marginal = marginal(&s.run, &b.run);
    let bare_marginal = marginal(&s.bare, &b.bare);
    let mut against_run = format!(
        "{run_marginal:.0} us per added case: {:.2}x the bare client's {bare_marginal:.0} us",
        run_marginal / bare_marginal
    );
    if curl {
        let curl_marginal = marginal(&s.curl, &b.curl);
        against_run.push_str(&format!(
            ", {:.2}x curl's {curl_marginal:.0} us",
            run_marginal / curl_marginal
        ));
    }
    let cpu =
        |what: &str, small: &[Duration], big: &[Duration], gated: bool, against: String| Scaled {
            what: what.to_owned(),
            unit: Unit::CpuPerCase,
            small: secs(small),
            big: secs(big),
            gated,
            against,
        };
    let memory = |what: &str, small: &[u64], big: &[u64], against: &str| Scaled {
        what: what.to_owned(),
        unit: Unit::Memory,
        small: least(small) as f64,
        big: least(big) as f64,
        gated: true,
        against: against.to_owned(),
    };
    let mut scaled = vec![
        cpu(
            "load: models, scenarios, snapshots (in-process CPU)",
            &s.load,
            &b.load,
            true,
            String::new(),
        ),
        cpu(
            "run against a canned endpoint (client CPU)",
            &s.run,
            &b.run,
            true,
            against_run,
        ),
        cpu(
            "the same, fresh credentials in every answer",
            &s.fresh,
            &b.fresh,
            true,
            format!(
                "{:.2}x the run above (aim: at most 1.2x)",
                secs(&b.fresh) / secs(&b.run)
            ),
        ),
    ];
    if curl {
        scaled.push(cpu(
            "curl --next, the same requests signed (client CPU)",
            &s.curl,
            &b.curl,
            false,
            String::new(),
        ));
    }
    scaled.push(cpu(
        "bare reqwest client, the same requests signed (client CPU)",
        &s.bare,
        &b.bare,
        false,
        String::new(),
    ));
    scaled.extend([
        cpu(
            "built-in replay run (client and server CPU)",
            &s.replay_cpu,
            &b.replay_cpu,
            true,
            String::new(),
        ),
        Scaled {
            what: "built-in replay run (wall)".into(),
            unit: Unit::Wall,
            small: secs(&s.replay_wall),
            big: secs(&b.replay_wall),
            gated: true,
            against: "aim: under 2 s for 10,000 cases".into(),
        },
        memory(
            "peak memory, run against an endpoint",
            &s.run_rss,
            &b.run_rss,
            "aim: under 50 MB for 10,000 cases",
        ),
        memory(
            "peak memory, built-in replay run",
            &s.replay_rss,
            &b.replay_rss,
            "",
        ),
        cpu(
            "conform check (CPU)",
            &s.check,
            &b.check,
            true,
            String::new(),
        ),
    ]);
    Figures {
        sizes,
        scaled,
        fixed: corpus(short),
    }
}

/// The repository's own corpus, timed from start as a user runs it.
fn corpus(short: bool) -> Vec<Fixed> {
    let repo = project::repo().to_str().unwrap();
    let conform = project::conform();
    let cases = child::ok(
        "conform list",
        Command::new(conform).args(["list", "--root", repo]),
    )
    .stdout
    .lines()
    .count();
    // A cache directory of the bench's own: `check` keeps its passing answer there.
    let cache = tempfile::tempdir().expect("a temporary cache directory");
    let wall = |what: &str, args: &[&str], times: usize| {
        median(
            (0..times + 2)
                .map(|_| {
                    let mut command = Command::new(conform);
                    command.args(args).env("CONFORM_CACHE_DIR", cache.path());
                    child::ok(what, &mut command).wall
                })
                .skip(2)
                .collect(),
        )
    };
    let anew = wall("conform check", &["check", "--no-cache", "--root", repo], 9);
    let check = wall("conform check", &["check", "--root", repo], 9);
    let edited = check_after_an_edit(Path::new(conform), Path::new(repo), 9);
    let one = wall(
        "one corpus case",
        &["run", "--no-new", "--root", repo, "--exact", ONE_CASE],
        9,
    );
    let mut out = vec![
        Fixed {
            what: format!(
                "conform check on the corpus ({cases} cases), nothing changed since it passed, wall, median of 9"
            ),
            value: format!("{:.1} ms", check.as_secs_f64() * 1e3),
            aim: "under 100 ms".into(),
        },
        Fixed {
            what: format!(
                "conform check on the corpus ({cases} cases) after one scenario file changed: that file parsed, what the others yield recalled, wall, median of 9"
            ),
            value: format!("{:.1} ms", edited.as_secs_f64() * 1e3),
            aim: "under 100 ms".into(),
        },
        Fixed {
            what: format!(
                "conform check --no-cache on the corpus ({cases} cases): every file read and checked, wall, median of 9"
            ),
            value: format!("{:.1} ms", anew.as_secs_f64() * 1e3),
            aim: String::new(),
        },
        Fixed {
            what: format!("one corpus case (`{ONE_CASE}`) from start, wall, median of 9"),
            value: format!("{:.1} ms", one.as_secs_f64() * 1e3),
            aim: "under 15 ms".into(),
        },
    ];
    if !short {
        let (value, what) = match load::serve_load() {
            Ok(s) => (
                format!(
                    "{:.0} requests/s, {:.1} us of server CPU per request: {:.2}x the floor's {:.0} requests/s ({:.1} us)",
                    s.conform.per_second,
                    s.conform.cpu_us,
                    s.conform.per_second / s.floor.per_second,
                    s.floor.per_second,
                    s.floor.cpu_us
                ),
                format!(
                    "conform serve under wrk, {} connections, signed GetCallerIdentity, median of {} rounds of {} s interleaved with the floor (a bare hyper server, same runtime layout, fixed answer)",
                    s.connections, s.rounds, s.seconds
                ),
            ),
            Err(why) => (
                format!("not measured: {why}"),
                "conform serve under wrk".to_owned(),
            ),
        };
        out.push(Fixed {
            what,
            value,
            aim: "at least 50,000 requests/s".into(),
        });
    }
    out
}

/// `conform check` on a copy of the project after one of its scenario files changed: the
/// copy is checked once (its memos written), then before each timed check a comment line is
/// added to one scenario file, so the check as a whole is never given again but every other
/// file's cases are recalled.
fn check_after_an_edit(conform: &Path, repo: &Path, times: usize) -> Duration {
    let copy = tempfile::tempdir().expect("a temporary project");
    for part in ["scenarios", "snapshots", "models", "baselines"] {
        copy_dir(&repo.join(part), &copy.path().join(part));
    }
    std::fs::copy(repo.join("conform.toml"), copy.path().join("conform.toml"))
        .expect("the targets file copied");
    let edited = copy
        .path()
        .join("scenarios/iam/CreateRole/doc-examples.yaml");
    let cache = tempfile::tempdir().expect("a temporary cache directory");
    let root = copy.path().to_str().expect("a UTF-8 temporary path");
    let check = || {
        let mut command = Command::new(conform);
        command
            .args(["check", "--root", root])
            .env("CONFORM_CACHE_DIR", cache.path());
        child::ok("conform check after an edit", &mut command).wall
    };
    check();
    median(
        (0..times + 2)
            .map(|round| {
                let mut f = std::fs::OpenOptions::new()
                    .append(true)
                    .open(&edited)
                    .expect("the scenario file to edit");
                writeln!(f, "# edit {round}").expect("a line added");
                check()
            })
            .skip(2)
            .collect(),
    )
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("a directory made");
    for entry in std::fs::read_dir(from).expect("a directory read").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("a file copied");
        }
    }
}

/// The request bodies the harness sends for the project's cases, for the baselines.
fn bodies(layout: &Layout) -> Vec<String> {
    let suite = Suite::load(layout).unwrap();
    let target = Target::at_endpoint("http://127.0.0.1:1", "us-east-1", |_| None).unwrap();
    let model = &suite.models["sts"];
    suite
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
            ),
            Request::Raw(_) => unreachable!("the bench's cases are calls"),
        })
        .collect()
}

fn cpu_of<T>(f: impl FnOnce() -> T) -> Duration {
    let before = process_cpu();
    std::hint::black_box(f());
    process_cpu() - before
}

fn process_cpu() -> Duration {
    // SAFETY: getrusage only writes the struct we hand it.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, (t.tv_usec as u32) * 1000);
    tv(u.ru_utime) + tv(u.ru_stime)
}

fn page(figures: &str) -> String {
    format!(
        "# Benchmark\n\nWritten by `cargo xtask bench` (benches/harness/); the README's Performance section quotes it.\n\
         Each figure is measured at two suite sizes; growth is the exponent of the cost's ratio\n\
         (1 is linear; CI fails above {GROWTH_LIMIT}). Per-case CPU includes start-up, which the\n\
         bigger suite spreads thinner; the marginal figure (the difference between the sizes) does not.\n\n{figures}"
    )
}

/// Writes through a temporary file in the same directory, so an interrupted bench never
/// leaves half a file.
fn write_atomically(path: &std::path::Path, text: &str) {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    std::fs::create_dir_all(dir).unwrap();
    let mut tmp = tempfile::NamedTempFile::new_in(dir).unwrap();
    std::io::Write::write_all(&mut tmp, text.as_bytes()).unwrap();
    tmp.persist(path).unwrap();
}

const QUOTE_START: &str = "<!-- bench:start -->";
const QUOTE_END: &str = "<!-- bench:end -->";

/// Replaces the figures the README quotes (between its bench markers) with these.
fn quote_in_readme(text: &str) {
    let path = project::repo().join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let (Some(a), Some(b)) = (readme.find(QUOTE_START), readme.find(QUOTE_END)) else {
        eprintln!("bench: README.md has no {QUOTE_START} ... {QUOTE_END} block; not quoted");
        return;
    };
    let new = format!("{}{QUOTE_START}\n{text}\n{}", &readme[..a], &readme[b..]);
    write_atomically(&path, &new);
    eprintln!("bench: quoted the figures in README.md");
}
