//! The command line as clap reads it, and what a named target of the targets file fills in.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use conform::suite::Layout;

#[derive(Parser)]
#[command(
    name = "conform",
    version,
    // A flag given twice (by a wrapper such as xtask and by its user) means it once.
    args_override_self = true,
    about = "Conformance harness for AWS XML APIs: replays YAML scenarios against an endpoint and compares the answers with snapshots"
)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) layout: LayoutArgs,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Args)]
pub(crate) struct LayoutArgs {
    /// Project root holding scenarios/, snapshots/ and models/.
    #[arg(long, global = true, default_value = ".")]
    pub(crate) root: PathBuf,
    /// Scenario directory (default: ROOT/scenarios).
    #[arg(long, global = true)]
    pub(crate) scenarios: Option<PathBuf>,
    /// Snapshot directory (default: ROOT/snapshots).
    #[arg(long, global = true)]
    pub(crate) snapshots: Option<PathBuf>,
    /// Model directory (default: ROOT/models).
    #[arg(long, global = true)]
    pub(crate) models: Option<PathBuf>,
}

#[derive(Subcommand)]
pub(crate) enum Command {
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
    /// Delete what recordings left behind: the resources each service's resources file names
    /// (IAM roles, users, policies, providers, SNS topics, ...) tagged `conform`.
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
    /// Write the corpus this binary carries (scenarios, snapshots, models, baselines,
    /// conform.toml and the install scripts its recipes run) into DIR, to read, change or run
    /// with --root DIR. Never overwrites a file.
    Export {
        /// Where to write it (created if missing).
        dir: PathBuf,
    },
    /// Write limit cases from the models: for each refused side of a constraint no
    /// hand-written case covers, scenarios/<service>/<Operation>/limits.generated.yaml and
    /// the snapshots of its cases (the refusal in the service's validation format, from
    /// models/<service>.facts.yaml). Exit 0 when written or up to date, 1 with --check when
    /// a generated file is stale, 2 on an error.
    Generate {
        /// Services to generate for (default: every service whose facts file has a
        /// validation format).
        #[arg(value_name = "SERVICE")]
        services: Vec<String>,
        /// Do not write: list the generated files that differ and fail if any does.
        #[arg(long)]
        check: bool,
    },
    /// Write scenarios/<service>/COVERAGE.md: which constraints and errors cases exercise.
    Coverage {
        /// Do not write: fail if a COVERAGE.md is out of date.
        #[arg(long)]
        check: bool,
    },
}

#[derive(Args)]
pub(crate) struct RecordArgs {
    /// `aws`, or the URL of an endpoint to record against (a local emulator, to try it).
    #[arg(long)]
    pub(crate) target: String,
    /// Confirms recording against AWS (or set CONFORM_ALLOW_AWS=1).
    #[arg(long)]
    pub(crate) allow_aws: bool,
    /// Region (AWS: STS's regional endpoint, the global one for us-east-1); default: the
    /// profile's region, else us-east-1.
    #[arg(long)]
    pub(crate) region: Option<String>,
    /// A profile of the shared config and credentials files (the standard AWS chain is used
    /// for `--target aws`, and for any target when a profile is named).
    #[arg(long)]
    pub(crate) profile: Option<String>,
    /// Substrings of test names to record (all when none).
    #[arg(long = "filter")]
    pub(crate) filters: Vec<String>,
    /// Print what would be created and called, send nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Cases in flight at once.
    #[arg(long, default_value_t = 2)]
    pub(crate) jobs: usize,
    /// Target variables, NAME=VALUE.
    #[arg(long = "var")]
    pub(crate) vars: Vec<String>,
    /// Requests per second at most.
    #[arg(long, default_value_t = 10.0)]
    pub(crate) rate: f64,
    /// Retries of a throttled answer, or of one refused while IAM propagates what setup made.
    #[arg(long, default_value_t = 5)]
    pub(crate) retries: u32,
    /// First backoff of those retries, in milliseconds (it doubles, with jitter, up to 10 s).
    #[arg(long, default_value_t = 500)]
    pub(crate) retry_base_ms: u64,
    /// After Ctrl-C or SIGTERM, seconds the cases under way get to run their cleanup steps
    /// (a second signal exits at once).
    #[arg(long, default_value_t = 60)]
    pub(crate) grace: u64,
    /// Answers longer than this many bytes fail their case after at most that much was read
    /// (default 4 MiB, far above any real AWS answer; `max_answer_bytes` in the targets file).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) max_answer_bytes: Option<u64>,
}

#[derive(Args)]
pub(crate) struct RunArgs {
    /// The endpoint to test, e.g. http://127.0.0.1:5000 (moto) or https://sts.amazonaws.com.
    /// Without it, the built-in replay server answers from the snapshots.
    #[arg(long)]
    pub(crate) endpoint: Option<String>,
    /// Signing region (default: the target's, else us-east-1).
    #[arg(long)]
    pub(crate) region: Option<String>,
    /// A target named in the targets file: its endpoint, region, credentials, variables and
    /// baseline (flags given here win). `replay` is the built-in replay server. A target with
    /// a start recipe (moto, localstack) is installed, started on a free loopback port and
    /// stopped when the run ends, unless --endpoint names one already running.
    #[arg(long)]
    pub(crate) target: Option<String>,
    /// The emulator to start from its recipe, with the targets file's directory (what the
    /// recipe's relative paths are relative to).
    #[arg(skip)]
    pub(crate) start: Option<(conform::targets::Launch, PathBuf)>,
    /// Where the keys come from: the targets file's word for the target, else the environment.
    #[arg(skip)]
    pub(crate) credentials: conform::targets::CredentialSource,
    /// Other services' endpoints, from the targets file (IAM for setup steps on AWS).
    #[arg(skip)]
    pub(crate) service_endpoints: std::collections::BTreeMap<String, String>,
    /// Confirm a run against AWS (an amazonaws.com endpoint): its setup steps create resources
    /// (IAM roles, SNS topics, ...) in the account, and every call is real. Also
    /// CONFORM_ALLOW_AWS=1.
    #[arg(long)]
    pub(crate) allow_aws: bool,
    /// The targets file (default: conform.toml in the project root, else the one built in).
    #[arg(long)]
    pub(crate) targets: Option<PathBuf>,
    /// Substrings of test names to run (all when none). With filters, only the scenario files
    /// that may hold a matching case are read and checked: a mistake in another file shows in
    /// an unfiltered run and in `conform check`.
    #[arg(long = "filter")]
    pub(crate) filters: Vec<String>,
    /// More filters, as bare words: `conform run assume_role` is `--filter assume_role`.
    #[arg(value_name = "FILTER")]
    pub(crate) more_filters: Vec<String>,
    /// Filters must match whole test names.
    #[arg(long)]
    pub(crate) exact: bool,
    /// Cases in flight at once (default: cores x 4).
    #[arg(long)]
    pub(crate) jobs: Option<usize>,
    /// Seconds to wait for each answer.
    #[arg(long, default_value_t = 30)]
    pub(crate) timeout: u64,
    /// Retries of a request that got no answer (refused, timed out). None by default.
    #[arg(long, default_value_t = 0)]
    pub(crate) retries: u32,
    /// Answers longer than this many bytes fail their case after at most that much was read
    /// (default 4 MiB, far above any real AWS answer; `max_answer_bytes` in the targets file).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) max_answer_bytes: Option<u64>,
    /// Target variables, NAME=VALUE (account_id, role_arn, caller_arn, ...).
    #[arg(long = "var")]
    pub(crate) vars: Vec<String>,
    /// Do not write .snap.new files for failing or new cases (never written when CI is set).
    #[arg(long)]
    pub(crate) no_new: bool,
    /// Run only shard K of N (a stable hash of each case's name decides its shard).
    #[arg(long)]
    pub(crate) shard: Option<String>,
    /// Write the results as JSON (stable schema; shards merge with `conform merge`).
    #[arg(long)]
    pub(crate) report_json: Option<PathBuf>,
    /// Write the results as JUnit XML.
    #[arg(long)]
    pub(crate) report_junit: Option<PathBuf>,
    /// Write a Markdown summary (counts, then each deviation with its diff).
    #[arg(long)]
    pub(crate) report_md: Option<PathBuf>,
    /// Write a self-contained HTML page: counts, every case, a side-by-side diff for each
    /// deviation, and filters by operation, kind and status kept in the URL's #fragment.
    #[arg(long)]
    pub(crate) report_html: Option<PathBuf>,
    /// The target's name in reports (default: `replay`, or the endpoint).
    #[arg(long)]
    pub(crate) target_name: Option<String>,
    /// What the target is, for reports and the parity matrix (`moto 5.2.5`).
    #[arg(long)]
    pub(crate) target_version: Option<String>,
    /// Known deviations of the target (baselines/<target>.toml): the run passes when every
    /// deviation is listed, and fails on a new one (also in a case that lists others) and on
    /// a listed one that no longer occurs.
    #[arg(long)]
    pub(crate) baseline: Option<PathBuf>,
    /// Rewrite the baseline (--baseline, or the target's in the targets file) to accept this
    /// run's deviations (the list the gate then holds), keeping the reasons it has.
    #[arg(long)]
    pub(crate) update_baseline: bool,
    /// What the target is not judged on, from the targets file.
    #[arg(skip)]
    pub(crate) not_judged: Vec<conform::deviation::NotJudged>,
    /// After Ctrl-C or SIGTERM, seconds the cases under way get to run their cleanup steps
    /// before the summary and reports of what finished (a second signal exits at once).
    #[arg(long, default_value_t = 30)]
    pub(crate) grace: u64,
}

/// Fills what the flags leave open from the named target of the targets file (`targets`,
/// unless --targets names another). A target with a start recipe is started by the run,
/// unless --endpoint names one already running: the file's endpoint is then not used.
pub(crate) fn with_target(mut args: RunArgs, targets: &std::path::Path) -> anyhow::Result<RunArgs> {
    let Some(name) = args.target.clone() else {
        return Ok(args);
    };
    let file = args.targets.clone().unwrap_or_else(|| targets.to_owned());
    let targets = conform::targets::Targets::load(&file)?;
    let spec = targets.get(&name)?;
    match (&spec.start, &args.endpoint) {
        (Some(launch), None) => {
            // Absolute, so the recipe means the same whatever directory the run started in.
            let dir = std::path::absolute(targets.dir())
                .with_context(|| format!("cannot resolve {}", targets.dir().display()))?;
            args.start = Some((launch.clone(), dir));
        }
        _ => args.endpoint = args.endpoint.or_else(|| spec.endpoint.clone()),
    }
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

pub(crate) fn layout(a: &LayoutArgs) -> Layout {
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
