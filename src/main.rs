//! The `conform` command line: loads a project, runs or inspects it, and prints.

mod terminal;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use conform::baseline::Baseline;
use conform::deviation::NotJudgedSet;
use conform::replay::Replay;
use conform::report::{RunReport, Status};
use conform::runner::{CaseResult, Event, Interrupt, Outcome, Runner, StopKind};
use conform::secrets::Secrets;
use conform::snapshot;
use conform::suite::{Layout, Suite, SuiteError};
use conform::target::Target;

#[derive(Parser)]
#[command(
    name = "conform",
    version,
    // A flag given twice (by a wrapper such as xtask and by its user) means it once.
    args_override_self = true,
    about = "Conformance harness for AWS XML APIs: replays YAML scenarios against an endpoint and compares the answers with snapshots"
)]
struct Cli {
    #[command(flatten)]
    layout: LayoutArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct LayoutArgs {
    /// Project root holding scenarios/, snapshots/ and models/.
    #[arg(long, global = true, default_value = ".")]
    root: PathBuf,
    /// Scenario directory (default: ROOT/scenarios).
    #[arg(long, global = true)]
    scenarios: Option<PathBuf>,
    /// Snapshot directory (default: ROOT/snapshots).
    #[arg(long, global = true)]
    snapshots: Option<PathBuf>,
    /// Model directory (default: ROOT/models).
    #[arg(long, global = true)]
    models: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Run scenarios against an endpoint and compare the answers with the snapshots.
    Run(Box<RunArgs>),
    /// List the cases (test names), optionally filtered.
    List {
        /// Substrings of test names (`sts::AssumeRole::...`) to keep.
        #[arg(long = "filter")]
        filters: Vec<String>,
        /// More filters, as bare words.
        #[arg(value_name = "FILTER")]
        more: Vec<String>,
    },
    /// Load every scenario and snapshot; report errors, orphans, missing snapshots, stale
    /// snapshot headers and contradictions between cases and the service's facts.
    Check {
        /// Rewrite snapshot headers that no longer say what their case says (contents are
        /// left as they are).
        #[arg(long)]
        fix_headers: bool,
    },
    /// Scenarios x targets from the JSON reports of runs: pass, fail or baselined, with pass
    /// rates per operation and overall.
    Matrix {
        reports: Vec<PathBuf>,
        /// TARGET=FILE: that target's baseline, so its known deviations show as such.
        #[arg(long = "baseline")]
        baselines: Vec<String>,
        /// Write the Markdown matrix here (to stdout when neither --md nor --html is given).
        #[arg(long)]
        md: Option<PathBuf>,
        /// Write the matrix as a self-contained HTML page, filterable by operation and cell.
        #[arg(long)]
        html: Option<PathBuf>,
    },
    /// Merge the JSON reports of shards into one report.
    Merge {
        /// The shards' JSON reports.
        reports: Vec<PathBuf>,
        #[arg(long)]
        json: Option<PathBuf>,
        #[arg(long)]
        junit: Option<PathBuf>,
        #[arg(long)]
        md: Option<PathBuf>,
        /// A self-contained HTML page with side-by-side diffs (as `run --report-html`).
        #[arg(long, alias = "report-html")]
        html: Option<PathBuf>,
    },
    /// Record fresh snapshots against a real target (AWS, or a local endpoint to try it).
    Record(RecordArgs),
    /// Delete what recordings left behind: IAM roles and providers tagged `conform`.
    Cleanup {
        /// `aws`, or the URL of an endpoint.
        #[arg(long)]
        target: String,
        /// Confirms acting on AWS (or set CONFORM_ALLOW_AWS=1).
        #[arg(long)]
        allow_aws: bool,
        #[arg(long)]
        region: Option<String>,
        /// A profile of the shared config and credentials files.
        #[arg(long)]
        profile: Option<String>,
        /// List what would be deleted, delete nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Serve the recorded answers on 127.0.0.1, for SDK tests, until Ctrl-C.
    Serve {
        /// Port to listen on (0: any free port; the address is printed).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Exit non-zero at shutdown if any request matched no scenario.
        #[arg(long)]
        strict: bool,
        /// Values the server stands for, NAME=VALUE (account_id, role_arn, ...).
        #[arg(long = "var")]
        vars: Vec<String>,
        /// Signing region the answers are for.
        #[arg(long, default_value = "us-east-1")]
        region: String,
        /// Request bodies longer than this many bytes get 413, unread (default 1 MiB, ten
        /// times STS's largest request).
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
        max_body_bytes: Option<u64>,
        /// Seconds a connection may take to send a request's head (or sit idle between
        /// requests) and its body before it is closed (default 30).
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
        idle_timeout: Option<u64>,
    },
    /// Write scenarios/<service>/COVERAGE.md: which constraints and errors cases exercise.
    Coverage {
        /// Do not write: fail if a COVERAGE.md is out of date.
        #[arg(long)]
        check: bool,
    },
}

#[derive(Args)]
struct RecordArgs {
    /// `aws`, or the URL of an endpoint to record against (a local emulator, to try it).
    #[arg(long)]
    target: String,
    /// Confirms recording against AWS (or set CONFORM_ALLOW_AWS=1).
    #[arg(long)]
    allow_aws: bool,
    /// Region (AWS: STS's regional endpoint, the global one for us-east-1); default: the
    /// profile's region, else us-east-1.
    #[arg(long)]
    region: Option<String>,
    /// A profile of the shared config and credentials files (the standard AWS chain is used
    /// for `--target aws`, and for any target when a profile is named).
    #[arg(long)]
    profile: Option<String>,
    /// Substrings of test names to record (all when none).
    #[arg(long = "filter")]
    filters: Vec<String>,
    /// Print what would be created and called, send nothing.
    #[arg(long)]
    dry_run: bool,
    /// Cases in flight at once.
    #[arg(long, default_value_t = 2)]
    jobs: usize,
    /// Target variables, NAME=VALUE.
    #[arg(long = "var")]
    vars: Vec<String>,
    /// Requests per second at most.
    #[arg(long, default_value_t = 10.0)]
    rate: f64,
    /// Retries of a throttled answer, or of one refused while IAM propagates what setup made.
    #[arg(long, default_value_t = 5)]
    retries: u32,
    /// First backoff of those retries, in milliseconds (it doubles, with jitter, up to 10 s).
    #[arg(long, default_value_t = 500)]
    retry_base_ms: u64,
    /// After Ctrl-C or SIGTERM, seconds the cases under way get to run their cleanup steps
    /// (a second signal exits at once).
    #[arg(long, default_value_t = 60)]
    grace: u64,
    /// Answers longer than this many bytes fail their case after at most that much was read
    /// (default 4 MiB, far above any real AWS answer; `max_answer_bytes` in the targets file).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    max_answer_bytes: Option<u64>,
}

#[derive(Args)]
struct RunArgs {
    /// The endpoint to test, e.g. http://127.0.0.1:5000 (moto) or https://sts.amazonaws.com.
    /// Without it, the built-in replay server answers from the snapshots.
    #[arg(long)]
    endpoint: Option<String>,
    /// Signing region (default: the target's, else us-east-1).
    #[arg(long)]
    region: Option<String>,
    /// A target named in the targets file: its endpoint, region, credentials, variables and
    /// baseline (flags given here win). `replay` is the built-in replay server.
    #[arg(long)]
    target: Option<String>,
    /// Where the keys come from: the targets file's word for the target, else the environment.
    #[arg(skip)]
    credentials: conform::targets::CredentialSource,
    /// Other services' endpoints, from the targets file (IAM for setup steps on AWS).
    #[arg(skip)]
    service_endpoints: std::collections::BTreeMap<String, String>,
    /// Confirm a run against AWS (an amazonaws.com endpoint): its setup steps create IAM roles
    /// in the account, and every call is real. Also CONFORM_ALLOW_AWS=1.
    #[arg(long)]
    allow_aws: bool,
    /// The targets file (default: conform.toml in the project root).
    #[arg(long)]
    targets: Option<PathBuf>,
    /// Substrings of test names to run (all when none).
    #[arg(long = "filter")]
    filters: Vec<String>,
    /// More filters, as bare words: `conform run assume_role` is `--filter assume_role`.
    #[arg(value_name = "FILTER")]
    more_filters: Vec<String>,
    /// Filters must match whole test names.
    #[arg(long)]
    exact: bool,
    /// Cases in flight at once (default: cores x 4).
    #[arg(long)]
    jobs: Option<usize>,
    /// Seconds to wait for each answer.
    #[arg(long, default_value_t = 30)]
    timeout: u64,
    /// Retries of a request that got no answer (refused, timed out). None by default.
    #[arg(long, default_value_t = 0)]
    retries: u32,
    /// Answers longer than this many bytes fail their case after at most that much was read
    /// (default 4 MiB, far above any real AWS answer; `max_answer_bytes` in the targets file).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    max_answer_bytes: Option<u64>,
    /// Target variables, NAME=VALUE (account_id, role_arn, caller_arn, ...).
    #[arg(long = "var")]
    vars: Vec<String>,
    /// Do not write .snap.new files for failing or new cases (never written when CI is set).
    #[arg(long)]
    no_new: bool,
    /// Run only shard K of N (a stable hash of each case's name decides its shard).
    #[arg(long)]
    shard: Option<String>,
    /// Write the results as JSON (stable schema; shards merge with `conform merge`).
    #[arg(long)]
    report_json: Option<PathBuf>,
    /// Write the results as JUnit XML.
    #[arg(long)]
    report_junit: Option<PathBuf>,
    /// Write a Markdown summary (counts, then each deviation with its diff).
    #[arg(long)]
    report_md: Option<PathBuf>,
    /// Write a self-contained HTML page: counts, every case, a side-by-side diff for each
    /// deviation, and filters by operation, kind and status kept in the URL's #fragment.
    #[arg(long)]
    report_html: Option<PathBuf>,
    /// The target's name in reports (default: `replay`, or the endpoint).
    #[arg(long)]
    target_name: Option<String>,
    /// What the target is, for reports and the parity matrix (`moto 5.2.5`).
    #[arg(long)]
    target_version: Option<String>,
    /// Known deviations of the target (baselines/<target>.toml): the run passes when every
    /// deviation is listed, and fails on a new one (also in a case that lists others) and on
    /// a listed one that no longer occurs.
    #[arg(long)]
    baseline: Option<PathBuf>,
    /// Rewrite the baseline (--baseline, or the target's in the targets file) to accept this
    /// run's deviations (the list the gate then holds), keeping the reasons it has.
    #[arg(long)]
    update_baseline: bool,
    /// What the target is not judged on, from the targets file.
    #[arg(skip)]
    not_judged: Vec<conform::deviation::NotJudged>,
    /// After Ctrl-C or SIGTERM, seconds the cases under way get to run their cleanup steps
    /// before the summary and reports of what finished (a second signal exits at once).
    #[arg(long, default_value_t = 30)]
    grace: u64,
}

fn main() -> ExitCode {
    // Output piped into `head` must end the program quietly, as for other Unix tools, rather
    // than panic in println!.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of a signal before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", causes(&e));
            ExitCode::from(2)
        }
    }
}

/// The exit code of a run that was interrupted, as shells report a SIGINT.
const INTERRUPTED: u8 = 130;

/// The first SIGINT or SIGTERM triggers `interrupt` (and says what happens now); a second
/// exits at once. SIGTERM counts as much as Ctrl-C: a run in the background, where the shell
/// ignores SIGINT for it, or under a CI runner that cancels a job, must still clean up.
fn on_signals(runtime: &tokio::runtime::Runtime, interrupt: Interrupt, what: &'static str) {
    runtime.block_on(async {
        let mut signals = match Signals::new() {
            Ok(s) => s,
            Err(e) => {
                eprintln!(
                    "warning: cannot catch Ctrl-C or SIGTERM ({e}); they will stop conform at once"
                );
                return;
            }
        };
        tokio::spawn(async move {
            signals.next().await;
            eprintln!("\ninterrupted: {what} (again to exit at once)");
            interrupt.trigger();
            signals.next().await;
            eprintln!("interrupted again: exiting now; cleanup steps under way did not finish");
            std::process::exit(INTERRUPTED.into());
        });
    });
}

/// Ctrl-C, and on Unix SIGTERM as well.
struct Signals {
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> std::io::Result<Signals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Signals {
                int: signal(SignalKind::interrupt())?,
                term: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }

    async fn next(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.int.recv() => {}
            _ = self.term.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Runs the cases; once interrupted, waits `grace` for those under way to clean up, then
/// reports them as not run. Every case gets a result, in order.
fn run_cases(
    runtime: &tokio::runtime::Runtime,
    runner: &Arc<Runner>,
    interrupt: &Interrupt,
    indices: &[usize],
    jobs: usize,
    grace: Duration,
    on_event: impl FnMut(&Event<'_>),
) -> Vec<CaseResult> {
    runtime.block_on(runner.check_all_until(indices, jobs, on_event, async {
        interrupt.triggered().await;
        tokio::time::sleep(grace).await;
        eprintln!(
            "the cases under way did not finish within {} s of the interrupt; they are reported as not run",
            grace.as_secs()
        );
    }))
}

/// The error and its causes, each said once: the library's messages already quote their
/// cause (`cannot read X: <why>`), which anyhow's `{:#}` would print a second time.
fn causes(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !out.contains(&text) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(&text);
        }
    }
    out
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let layout = layout(&cli.layout);
    let suite = match Suite::load(&layout) {
        Ok(s) => s,
        Err(SuiteError::Scenarios(diags)) => {
            for d in &diags {
                eprintln!("{}", d.render());
            }
            eprintln!(
                "error: {} problem(s) in the scenarios; nothing was run",
                diags.len()
            );
            return Ok(ExitCode::from(2));
        }
        Err(e) => return Err(e).context("cannot load the project"),
    };
    match cli.command {
        Command::List { mut filters, more } => {
            filters.extend(more);
            for c in suite.select(&filters, false) {
                println!("{}  [{} / {}]", c.test_name(), c.kind, c.provenance);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Check { fix_headers } => check(&suite, &cli.layout.root, fix_headers),
        Command::Coverage { check } => coverage(&suite, check),
        Command::Serve {
            port,
            strict,
            vars,
            region,
            max_body_bytes,
            idle_timeout,
        } => {
            let mut limits = conform::replay::Limits::default();
            if let Some(n) = max_body_bytes {
                limits.max_body_bytes = n;
            }
            if let Some(s) = idle_timeout {
                limits.idle_timeout = Duration::from_secs(s);
            }
            serve(suite, port, strict, &vars, &region, limits)
        }
        Command::Run(mut args) => {
            let more = std::mem::take(&mut args.more_filters);
            args.filters.extend(more);
            let args = with_target(*args, &cli.layout.root)?;
            // Checked here, not by clap: the baseline may come from the targets file.
            if args.update_baseline && args.baseline.is_none() {
                anyhow::bail!(
                    "--update-baseline needs a baseline: give --baseline FILE, or --target NAME of a target whose entry in the targets file names one"
                );
            }
            run_suite(suite, args)
        }
        Command::Record(args) => record(suite, args),
        Command::Merge {
            reports,
            json,
            junit,
            md,
            html,
        } => merge(
            &reports,
            Outputs {
                json,
                junit,
                md,
                html,
            },
        ),
        Command::Matrix {
            reports,
            baselines,
            md,
            html,
        } => matrix(&reports, &baselines, md, html),
        Command::Cleanup {
            target,
            allow_aws,
            region,
            profile,
            dry_run,
        } => cleanup(
            suite,
            &target,
            allow_aws,
            region.as_deref(),
            profile.as_deref(),
            dry_run,
        ),
    }
}

fn layout(a: &LayoutArgs) -> Layout {
    let mut l = Layout::at(&a.root);
    if let Some(p) = &a.scenarios {
        l.scenarios = p.clone();
    }
    if let Some(p) = &a.snapshots {
        l.snapshots = p.clone();
    }
    if let Some(p) = &a.models {
        l.models = p.clone();
    }
    l
}

fn check(suite: &Suite, root: &std::path::Path, fix_headers: bool) -> anyhow::Result<ExitCode> {
    use conform::check::Header;
    let found = conform::check::check(suite, &root.join("conform.toml"), fix_headers)?;
    for s in &found.stale_entries {
        println!(
            "stale baseline entry: {} lists {}, which is no case (remove the entry, or rename it with its case)",
            s.baseline.display(),
            s.case
        );
    }
    for m in &found.missing {
        println!(
            "missing snapshot: {} (for {}, {}:{})",
            m.snapshot.display(),
            m.case,
            m.file,
            m.line
        );
    }
    for o in &found.orphans {
        println!(
            "orphan snapshot: {} (no case has this id; delete it or restore its case)",
            o.display()
        );
    }
    for p in &found.pending {
        println!("pending review: {} (cargo insta review)", p.display());
    }
    for u in &found.uncovered {
        println!(
            "no case for a constrained member: {}::{} {} (add a limit case; `conform coverage` lists its bounds)",
            u.service, u.operation, u.member
        );
    }
    for h in &found.headers {
        match h {
            Header::Rewritten(path) => println!("rewrote the header of {}", path.display()),
            Header::Stale {
                snapshot,
                case_id,
                file,
                line,
            } => println!(
                "stale header: {} does not say what {case_id} at {file}:{line} says (conform check --fix-headers)",
                snapshot.display()
            ),
        }
    }
    for f in &found.findings {
        println!(
            "{}:{}: {}: {}\n  help: {}",
            f.file, f.line, f.case, f.message, f.help
        );
    }
    for d in &found.resources {
        println!("{}", d.render());
    }
    if !found.resources.is_empty() {
        println!(
            "{} problems in the resources files (what `conform cleanup` deletes)",
            found.resources.len()
        );
    }
    println!(
        "{} cases in {} models, {} snapshots: {} missing, {} orphaned, {} stale headers, {} constrained members without a case, {} stale baseline entries, {} contradictions",
        suite.cases.len(),
        suite.models.len(),
        suite.snapshots.len(),
        found.missing.len(),
        found.orphans.len(),
        found.stale_headers(),
        found.uncovered.len(),
        found.stale_entries.len(),
        found.findings.len()
    );
    Ok(if found.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn coverage(suite: &Suite, check_only: bool) -> anyhow::Result<ExitCode> {
    use conform::coverage::FileState;
    let files = conform::coverage::refresh(suite, check_only)
        .map_err(|(path, e)| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    for f in &files {
        match f.state {
            FileState::UpToDate => println!("{} is up to date", f.path.display()),
            FileState::Stale => println!(
                "{} is out of date: run `conform coverage` and commit it",
                f.path.display()
            ),
            FileState::Written => println!("wrote {}", f.path.display()),
        }
        if f.gaps > 0 {
            println!(
                "{} constrained members of {} have no case yet",
                f.gaps, f.service
            );
        }
    }
    Ok(if files.iter().any(|f| f.state == FileState::Stale) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Where a run's report goes, in each format asked for.
struct Outputs {
    json: Option<PathBuf>,
    junit: Option<PathBuf>,
    md: Option<PathBuf>,
    html: Option<PathBuf>,
}

impl Outputs {
    fn of(args: &RunArgs) -> Outputs {
        Outputs {
            json: args.report_json.clone(),
            junit: args.report_junit.clone(),
            md: args.report_md.clone(),
            html: args.report_html.clone(),
        }
    }
}

fn write_file(path: &std::path::Path, text: String) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

fn write_reports(report: &conform::report::RunReport, to: Outputs) -> anyhow::Result<()> {
    if let Some(p) = to.json {
        write_file(&p, serde_json::to_string_pretty(report)?)?;
    }
    if let Some(p) = to.junit {
        write_file(&p, report.to_junit())?;
    }
    if let Some(p) = to.md {
        write_file(&p, report.to_markdown())?;
    }
    if let Some(p) = to.html {
        write_file(&p, conform::html::report(report))?;
    }
    Ok(())
}

/// The JSON reports of earlier runs (or shards).
fn read_reports(paths: &[PathBuf]) -> anyhow::Result<Vec<conform::report::RunReport>> {
    paths
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read {}", p.display()))?;
            conform::report::RunReport::from_json(&text)
                .with_context(|| format!("cannot use {}", p.display()))
        })
        .collect()
}

fn merge(paths: &[PathBuf], to: Outputs) -> anyhow::Result<ExitCode> {
    let reports = read_reports(paths)?;
    let merged = conform::report::RunReport::merge(reports)?;
    println!(
        "{} cases from {} reports: {} not passing",
        merged.cases.len(),
        paths.len(),
        merged
            .cases
            .iter()
            .filter(|c| c.status() != Status::Pass)
            .count()
    );
    write_reports(&merged, to)?;
    Ok(ExitCode::SUCCESS)
}

fn matrix(
    paths: &[PathBuf],
    baselines: &[String],
    md: Option<PathBuf>,
    html: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    let mut runs = read_reports(paths)?;
    // A baseline given here judges its target's report again (a report judged at run time
    // carries its marks already).
    for b in baselines {
        let (target, file) = b
            .split_once('=')
            .with_context(|| format!("`{b}`: write TARGET=FILE"))?;
        let run = runs
            .iter_mut()
            .find(|r| r.target == target)
            .with_context(|| format!("no report is of target `{target}`"))?;
        let not_judged = NotJudgedSet::new(&run.not_judged).map_err(anyhow::Error::msg)?;
        Baseline::load(std::path::Path::new(file))?.judge(run, &not_judged);
    }
    let m = conform::report::Matrix { runs: &runs };
    if let Some(p) = &html {
        write_file(p, conform::html::matrix(&m))?;
    }
    match md {
        Some(p) => write_file(&p, m.to_markdown())?,
        None if html.is_none() => print!("{}", m.to_markdown()),
        None => {}
    }
    Ok(ExitCode::SUCCESS)
}

fn allowed_on_aws(flag: bool) -> bool {
    flag || std::env::var("CONFORM_ALLOW_AWS").is_ok_and(|v| v == "1")
}

/// The target of `record` and `cleanup`; None (after saying why) when AWS is not confirmed.
fn acting_target(
    name: &str,
    allow: bool,
    dry_run: bool,
    region: Option<&str>,
    profile: Option<&str>,
    what: &str,
) -> anyhow::Result<Option<Target>> {
    let env = |k: &str| std::env::var(k).ok();
    match Target::acting(
        name,
        allowed_on_aws(allow),
        dry_run,
        region,
        profile,
        what,
        env,
    ) {
        Ok(t) => Ok(Some(t)),
        Err(e @ conform::target::ActingError::NotConfirmed(_)) => {
            eprintln!(
                "error: {e}{}",
                if is_ci() {
                    " (CI is set: recording never runs in CI unless asked)"
                } else {
                    ""
                }
            );
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

fn cleanup(
    suite: Suite,
    target: &str,
    allow: bool,
    region: Option<&str>,
    profile: Option<&str>,
    dry_run: bool,
) -> anyhow::Result<ExitCode> {
    let Some(target) = acting_target(
        target,
        allow,
        dry_run,
        region,
        profile,
        "cleanup deletes IAM roles and providers in the account",
    )?
    else {
        return Ok(ExitCode::from(2));
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let kinds = conform::resources::Resources::load_dir(&suite.layout.models, &suite.models)
        .map_err(|errors| {
            for e in &errors {
                eprintln!("{}", e.render());
            }
            anyhow::anyhow!("{} problem(s) in the resources files", errors.len())
        })?;
    let runner = Runner::new(Arc::new(suite), target.clone(), Secrets::new())?;
    let done = match runtime.block_on(conform::cleanup::run(&runner, &kinds, dry_run)) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: cannot list what to clean up: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let verb = if dry_run { "would delete" } else { "deleted" };
    for d in &done.deleted {
        println!("{verb} {d}");
    }
    for f in &done.failed {
        println!("FAILED {f}");
    }
    println!(
        "{} {verb}, {} failed, against {}",
        done.deleted.len(),
        done.failed.len(),
        target.name
    );
    Ok(if done.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn record(suite: Suite, args: RecordArgs) -> anyhow::Result<ExitCode> {
    let Some(mut target) = acting_target(
        &args.target,
        args.allow_aws,
        args.dry_run,
        args.region.as_deref(),
        args.profile.as_deref(),
        "recording against AWS creates IAM roles and providers in the account and calls STS with its credentials",
    )?
    else {
        return Ok(ExitCode::from(2));
    };
    target.set_vars(args.vars.iter().map(String::as_str))?;
    if let Some(limit) = args.max_answer_bytes {
        target.max_answer_bytes = limit;
    }
    let suite = Arc::new(suite);
    let selected: Vec<usize> = {
        let sel = suite.select(&args.filters, false);
        suite
            .cases
            .iter()
            .enumerate()
            .filter(|(_, c)| sel.iter().any(|s| std::ptr::eq(*s, *c)))
            .map(|(i, _)| i)
            .collect()
    };
    if selected.is_empty() {
        eprintln!("no case matches the filters {:?}", args.filters);
        return Ok(ExitCode::from(2));
    }
    if args.dry_run {
        println!(
            "dry run: would record {} cases against {} ({}); nothing is sent",
            selected.len(),
            target.name,
            target.region
        );
        for &i in &selected {
            let case = &suite.cases[i];
            println!("{}", case.test_name());
            for step in &case.steps {
                let what = match &step.request {
                    conform::scenario::Request::Call { operation, .. } => {
                        format!("{}:{operation}", step.service)
                    }
                    conform::scenario::Request::Raw(r) => format!("raw {} {}", r.method, r.path),
                };
                let role = match step.role {
                    conform::scenario::Role::Setup => "create (setup) ",
                    conform::scenario::Role::Cleanup => "delete (cleanup) ",
                    conform::scenario::Role::Check => "call ",
                };
                println!(
                    "  {role}{what} at {}",
                    target.url_for(&step.service, "/", None)
                );
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    // Signals from the start: cases under way go to their cleanup steps, no more start.
    let interrupt = Interrupt::new();
    on_signals(
        &runtime,
        interrupt.clone(),
        "the cases under way run their cleanup steps; no more start",
    );
    let secrets = Secrets::new();
    let probe = Runner::new(Arc::clone(&suite), target.clone(), secrets.clone())?;
    let me = match runtime.block_on(conform::call::caller_identity(&probe)) {
        Ok(me) => me,
        Err(e) => {
            eprintln!("error: cannot tell who the credentials are (GetCallerIdentity): {e}");
            return Ok(ExitCode::from(2));
        }
    };
    println!(
        "recording as {} in account {} against {} ({})",
        me.arn, me.account, target.name, target.region
    );
    // The account and caller the answers will name are these: redaction turns them into
    // placeholders, so no account id reaches a file.
    target.vars.insert("account_id".into(), me.account.clone());
    target.vars.insert("caller_arn".into(), me.arn.clone());
    target
        .vars
        .insert("caller_user_id".into(), me.user_id.clone());
    let runner = Arc::new(
        Runner::new(Arc::clone(&suite), target.clone(), secrets.clone())?
            .with_interrupt(interrupt.clone())
            .with_rate(args.rate)
            .with_policy(Arc::new(conform::record_mode::RecordMode {
                attempts: args.retries + 1,
                base: Duration::from_millis(args.retry_base_ms),
                max: Duration::from_secs(10),
            })),
    );
    let terminal = terminal::Terminal::new(selected.len(), false);
    let results = run_cases(
        &runtime,
        &runner,
        &interrupt,
        &selected,
        args.jobs.max(1),
        Duration::from_secs(args.grace),
        |e| terminal.on_event(e),
    );
    let rec = conform::record::Recording {
        target: target.name.clone(),
        region: target.region.clone(),
        date: time::OffsetDateTime::now_utc().date().to_string(),
        account: me.account.clone(),
        against_aws: conform::target::is_aws(&target.endpoint),
    };
    let root = suite
        .layout
        .scenarios
        .parent()
        .unwrap_or(std::path::Path::new("."))
        .to_owned();
    let keep_scenarios = rec.keeps_scenarios(&root, &suite.layout.snapshots);
    let (mut written, mut refused, mut not_run) = (0, 0, 0);
    for r in &results {
        let case = &suite.cases[r.index];
        for w in &r.run.warnings {
            println!("WARN {}: {w}", r.test_name);
        }
        if let Some(e) = &r.run.stop {
            // A case that did not run to its end keeps its snapshot as it was.
            println!("NOT RECORDED {}: {e}", r.test_name);
            not_run += 1;
            continue;
        }
        match conform::record::write(&suite.snapshots, case, &r.run.transcript, &rec, &secrets) {
            Ok(_) => {
                if keep_scenarios.is_none() {
                    conform::record::mark_recorded(&root, case)?;
                }
                written += 1;
            }
            Err(e) => {
                println!("REFUSED {}: {e}", r.test_name);
                refused += 1;
            }
        }
    }
    println!(
        "\nrecorded {written} snapshots, {not_run} cases not recorded, {refused} refused for a secret"
    );
    match &keep_scenarios {
        Some(why) => println!("scenario files left as they are: {why}"),
        None if written > 0 => {
            println!("{written} cases marked `provenance: recorded` in their scenario files")
        }
        None => {}
    }
    Ok(if interrupt.is_triggered() {
        ExitCode::from(INTERRUPTED)
    } else if refused > 0 || not_run > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn serve(
    suite: Suite,
    port: u16,
    strict: bool,
    vars: &[String],
    region: &str,
    limits: conform::replay::Limits,
) -> anyhow::Result<ExitCode> {
    let mut values = conform::target::default_vars(region);
    for a in vars {
        let (k, v) = a
            .split_once('=')
            .with_context(|| format!("`{a}` is not a variable assignment: write NAME=VALUE"))?;
        values.insert(k.trim().to_owned(), v.to_owned());
    }
    let mut replay = Replay::from_suite(&suite, values);
    replay.on_unmatched(Box::new(|msg| eprintln!("unmatched: {msg}")));
    let replay = Arc::new(replay);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    // Caught before the server says it is up: a signal sent as soon as it is must not kill it
    // without its summary.
    let stop = Interrupt::new();
    on_signals(
        &runtime,
        stop.clone(),
        "stopping the server; the summary follows",
    );
    let server = runtime
        .block_on(conform::replay::serve_with(
            Arc::clone(&replay),
            port,
            limits,
        ))
        .with_context(|| format!("cannot listen on 127.0.0.1:{port}"))?;
    println!(
        "conform serve: {} recorded steps on {}",
        replay.len(),
        server.uri()
    );
    println!(
        "point an SDK at it, e.g. AWS_ENDPOINT_URL_STS={}; Ctrl-C or SIGTERM stops",
        server.uri()
    );
    runtime.block_on(stop.triggered());
    drop(server);
    let report = replay.report();
    println!(
        "\n{} requests matched no scenario; {} cases were never requested",
        report.unmatched_count,
        report.never_requested.len()
    );
    const LISTED: usize = 50;
    for n in report.never_requested.iter().take(LISTED) {
        println!("  never requested: {n}");
    }
    if report.never_requested.len() > LISTED {
        println!(
            "  ... and {} more never requested (the first {LISTED} are listed)",
            report.never_requested.len() - LISTED
        );
    }
    if strict && report.unmatched_count > 0 {
        println!(
            "--strict: exit 1, because {} requests matched no scenario (each was logged above as `unmatched:`)",
            report.unmatched_count
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

fn is_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// Fills what the flags leave open from the named target of the targets file.
fn with_target(mut args: RunArgs, root: &std::path::Path) -> anyhow::Result<RunArgs> {
    let Some(name) = args.target.clone() else {
        return Ok(args);
    };
    let file = args
        .targets
        .clone()
        .unwrap_or_else(|| root.join("conform.toml"));
    let targets = conform::targets::Targets::load(&file)?;
    let spec = targets.get(&name)?;
    args.endpoint = args.endpoint.or_else(|| spec.endpoint.clone());
    args.region = args.region.or_else(|| spec.region.clone());
    args.baseline = args.baseline.or_else(|| spec.baseline.clone());
    args.target_name = args.target_name.or(Some(name));
    args.credentials = spec.credentials.clone();
    args.service_endpoints = spec.endpoints.clone();
    args.not_judged = spec.not_judged.clone();
    args.max_answer_bytes = args.max_answer_bytes.or(spec.max_answer_bytes);
    // The file's variables first, so a --var given here overrides one.
    let mut vars: Vec<String> = spec.vars.iter().map(|(k, v)| format!("{k}={v}")).collect();
    vars.append(&mut args.vars);
    args.vars = vars;
    Ok(args)
}

fn run_suite(suite: Suite, args: RunArgs) -> anyhow::Result<ExitCode> {
    let region = args
        .region
        .clone()
        .unwrap_or_else(|| "us-east-1".to_owned());
    let shard = args
        .shard
        .as_deref()
        .map(conform::report::parse_shard)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let suite = Arc::new(suite);
    // The built-in target: the replay server, in process, on a free loopback port, standing
    // for the same variables (the same run id) as the run.
    let replay_vars = conform::target::default_vars(&region);
    let mut built_in: Option<Arc<Replay>> = None;
    let replay_server = match &args.endpoint {
        Some(_) => None,
        None => {
            let replay = Arc::new(Replay::from_suite(&suite, replay_vars.clone()));
            built_in = Some(Arc::clone(&replay));
            Some(
                runtime
                    .block_on(conform::replay::serve(replay, 0))
                    .context("cannot start the replay server")?,
            )
        }
    };
    let endpoint = match (&args.endpoint, &replay_server) {
        (Some(e), _) => e.clone(),
        (None, Some(s)) => s.uri(),
        (None, None) => unreachable!("a server was started"),
    };
    // Refused before any request: a run against AWS costs, and its answers are the reference.
    let on_aws = conform::target::is_aws(&endpoint);
    if args.baseline.is_some() && on_aws {
        anyhow::bail!(
            "a run against AWS never uses a baseline: AWS is what the baselines are measured against"
        );
    }
    if on_aws && !allowed_on_aws(args.allow_aws) {
        anyhow::bail!(
            "{endpoint} is AWS: the run's setup steps create IAM roles in the account and every call is real; confirm with --allow-aws or CONFORM_ALLOW_AWS=1"
        );
    }
    // Read before any request: a mistake in either file must not cost a whole run.
    let baseline = match &args.baseline {
        Some(path) => Some((path.clone(), Baseline::load(path)?)),
        None => None,
    };
    // What no target can be wrong about (an element order AWS is only documented to use)
    // joins what the target declares. Not for AWS itself: there such a deviation says the
    // snapshot's order is wrong, which is worth seeing.
    let mut rules = args.not_judged.clone();
    if !on_aws {
        for facts in suite.facts.values() {
            rules.extend(facts.not_judged());
        }
    }
    let not_judged = NotJudgedSet::new(&rules).map_err(anyhow::Error::msg)?;
    let target_name = match (&replay_server, &args.target_name) {
        (Some(_), _) => format!("the built-in replay server ({endpoint})"),
        (None, Some(name)) => format!("{name} ({endpoint})"),
        (None, None) => endpoint.clone(),
    };
    // The target's name in reports.
    let report_name = args.target_name.clone().unwrap_or_else(|| {
        if replay_server.is_some() {
            "replay".to_owned()
        } else {
            endpoint.clone()
        }
    });
    let mut target = Target::at_endpoint(&endpoint, &region, |k| std::env::var(k).ok())?;
    if let Some(c) = conform::credentials::for_source(&args.credentials, &region)? {
        target.use_credentials(c);
    }
    target.set_vars(args.vars.iter().map(String::as_str))?;
    target
        .service_endpoints
        .extend(args.service_endpoints.clone());
    if on_aws {
        // IAM has one global endpoint; setup steps must not go to STS's host.
        target
            .service_endpoints
            .entry("iam".into())
            .or_insert_with(|| conform::target::AWS_IAM_ENDPOINT.into());
    }
    // The run's own keys are its own to the built-in replay, temporary ones included.
    if let Some(r) = &built_in {
        r.trust_key(&target.credentials.access_key_id);
    }
    target.timeout = Duration::from_secs(args.timeout.max(1));
    target.retries = args.retries;
    if let Some(limit) = args.max_answer_bytes {
        target.max_answer_bytes = limit;
    }
    if replay_server.is_some() {
        target
            .vars
            .insert("run_id".into(), replay_vars["run_id"].clone());
    }
    // The built-in replay server, or `conform serve` elsewhere named as the replay target.
    let replaying = replay_server.is_some() || args.target.as_deref() == Some("replay");
    let indices: Vec<usize> = {
        let selected = suite.select(&args.filters, args.exact);
        suite
            .cases
            .iter()
            .enumerate()
            .filter(|(_, c)| selected.iter().any(|s| std::ptr::eq(*s, *c)))
            // A replay cannot be what a case requires of a real target (a disabled region).
            .filter(|(_, c)| !replaying || c.requires.is_empty())
            .filter(|(_, c)| {
                shard.is_none_or(|(k, n)| conform::report::shard_of(&c.test_name(), n) == k)
            })
            .map(|(i, _)| i)
            .collect()
    };
    let needs_target = suite
        .select(&args.filters, args.exact)
        .iter()
        .filter(|c| !c.requires.is_empty())
        .count();
    if replaying && needs_target > 0 {
        eprintln!(
            "note: {needs_target} cases need what only a real target provides (`requires:`); a replay server is none, so they are skipped"
        );
    }
    if indices.is_empty() {
        if let Some((k, n)) = shard {
            // A small suite can leave a shard empty: that is no error, and its report says so.
            println!("shard {k}/{n} holds no case");
            let mut report = RunReport::from_results([], &report_name, shard);
            report.target_version = args.target_version.clone();
            write_reports(&report, Outputs::of(&args))?;
            return Ok(ExitCode::SUCCESS);
        }
        eprintln!(
            "no case matches the filters {:?}; `conform list` shows the names",
            args.filters
        );
        return Ok(ExitCode::from(2));
    }
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let jobs = args.jobs.unwrap_or(cores * 4).max(1);
    let secrets = Secrets::new();
    let interrupt = Interrupt::new();
    on_signals(
        &runtime,
        interrupt.clone(),
        "no more cases start; those under way run their cleanup steps, then the summary and reports",
    );
    let runner = Arc::new(
        Runner::new(Arc::clone(&suite), target, secrets.clone())?.with_interrupt(interrupt.clone()),
    );

    let terminal =
        terminal::Terminal::new(indices.len(), !is_ci() && std::io::stderr().is_terminal());
    let started = Instant::now();
    let results = run_cases(
        &runtime,
        &runner,
        &interrupt,
        &indices,
        jobs,
        Duration::from_secs(args.grace),
        |e| terminal.on_event(e),
    );
    terminal.finish();
    let elapsed = started.elapsed();

    let write_new = !args.no_new && !is_ci();
    let ran = results.iter().map(|r| {
        let case = &suite.cases[r.index];
        let snap_new = suite.snapshots.path_of(case).with_extension("snap.new");
        conform::report::Ran::new(case, &r.outcome, snap_new)
    });
    let mut report = RunReport::from_results(ran, &report_name, shard);
    report.target_version = args.target_version.clone();
    report.not_judged = rules;
    baseline
        .as_ref()
        .map_or(&Baseline::default(), |(_, b)| b)
        .judge(&mut report, &not_judged);
    for (r, c) in results.iter().zip(&report.cases) {
        let written = match c.status() {
            Status::Missing | Status::Fail | Status::Incomplete if write_new => {
                write_new_snapshot(&suite, r, &secrets)
            }
            _ => String::new(),
        };
        terminal.case(&suite, r, c, &written);
    }
    write_reports(&report, Outputs::of(&args))?;
    terminal.summary(&report, &target_name, elapsed, jobs);
    let counts = report.counts();
    if interrupt.is_triggered() {
        // What finished is reported above and in the reports; a partial run judges nothing
        // else: no gate verdict, and the baseline stays as it is.
        let not_run = results
            .iter()
            .filter(
                |r| matches!(&r.outcome, Outcome::Error(e) if e.kind() == StopKind::Interrupted),
            )
            .count();
        println!(
            "interrupted: {not_run} cases not run or cut short; no gate verdict{}",
            if baseline.is_some() && args.update_baseline {
                ", and the baseline was not updated"
            } else {
                ""
            }
        );
        return Ok(ExitCode::from(INTERRUPTED));
    }
    let Some((path, baseline)) = baseline else {
        let ok = counts.failed + counts.incomplete + counts.missing + counts.errors == 0;
        return Ok(if ok {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    };
    if args.update_baseline {
        let updated = baseline.updated(&report);
        updated
            .save(&path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!(
            "wrote {}: {} deviations known in {} cases",
            path.display(),
            updated.len(),
            updated.cases.len()
        );
        let kept = report
            .cases
            .iter()
            .filter(|c| matches!(c.status(), Status::Error | Status::Missing))
            .count();
        if kept > 0 {
            println!(
                "{kept} cases could not be judged (no answer, no snapshot, a refused setup step): their entries stay as they were"
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let gate = baseline.gate(&report);
    // A wrapper that picks ports per run (xtask) names the command to repeat.
    terminal.gate(&gate, &path, || {
        std::env::var("CONFORM_UPDATE_BASELINE")
            .ok()
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| {
                let mut cmd: Vec<String> = std::env::args().collect();
                cmd.push("--update-baseline".into());
                cmd.join(" ")
            })
    });
    Ok(if gate.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Writes the case's answer as a `.snap.new` beside its snapshot, for review; says where
/// it went or why it was not written.
fn write_new_snapshot(suite: &Suite, r: &CaseResult, secrets: &Secrets) -> String {
    let case = &suite.cases[r.index];
    match snapshot::write_new(&suite.snapshots, case, &r.run.transcript, |t| {
        secrets.leaks_into(t)
    }) {
        Ok(p) => format!(
            "\n  wrote {} (review with `cargo insta review`)",
            p.display()
        ),
        Err(e) => format!("\n  {e}"),
    }
}
