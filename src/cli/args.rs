//! The command line as clap reads it, and what a named target of the targets file fills in.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use conform::suite::Layout;

// What each command's exit code means, as its --help states it (tests/command_line.rs
// provokes each one). Every command exits 2 on bad input, clap's own code for a bad option.
pub(crate) const EXITS: &str = "\
Exit codes (each command's --help says what its own mean):
  0    success
  1    the command ran and found what it checks for (a failing case, a stale file, ...)
  2    bad input: a mistake in a project file or an option; nothing was judged
  130  interrupted by Ctrl-C or SIGTERM (run, record)";

pub(crate) const RUN_EXITS: &str = "\
Exit codes:
  0    every case passed; with a baseline, the gate passed (or --update-baseline wrote it)
  1    a case failed, is incomplete, has no snapshot or could not run; with a baseline, a
       new deviation or a listed one that no longer occurs
  2    bad input: a mistake in a project file, the targets file or an option, no case
       matches the filters, or a run against AWS that is not confirmed
  130  interrupted by Ctrl-C or SIGTERM: the reports hold what finished, no gate verdict";

pub(crate) const EXPORT_EXITS: &str = "\
Exit codes:
  0    the corpus was written
  2    a file of the corpus is already in DIR (nothing is overwritten), or DIR cannot be
       written";

pub(crate) const LIST_EXITS: &str = "\
Exit codes:
  0    the cases were listed (none, when no name matches)
  2    bad input: a mistake in a project file or an option";

pub(crate) const CHECK_EXITS: &str = "\
Exit codes:
  0    nothing to report
  1    something was found: a missing, orphaned or pending snapshot, a stale header, a
       constrained member without a case, a stale baseline entry or generated file, or a
       contradiction with the service's facts
  2    bad input: a mistake in a project file or an option";

pub(crate) const REPORTS_EXITS: &str = "\
Exit codes:
  0    written
  2    bad input: a report that cannot be read (or of another schema), a bad option, or a
       file that cannot be written";

pub(crate) const RECORD_EXITS: &str = "\
Exit codes:
  0    every selected case was recorded (with --missing, every one missing; with
       --dry-run, listed)
  1    a case did not run to its end, or its snapshot was refused for holding a secret
  2    bad input: a mistake in a project file, the targets file or an option, no case
       matches the filters, AWS not confirmed, or the credentials do not work
       (GetCallerIdentity)
  130  interrupted by Ctrl-C or SIGTERM: what finished was written";

pub(crate) const CLEANUP_EXITS: &str = "\
Exit codes:
  0    everything found was deleted (or, with --dry-run, listed)
  1    a deletion failed
  2    bad input: a mistake in a project file, the targets file or an option, AWS not
       confirmed, or what to clean up could not be listed";

pub(crate) const SERVE_EXITS: &str = "\
Exit codes (after Ctrl-C or SIGTERM, with the summary):
  0    stopped
  1    with --strict: a request matched no scenario
  2    bad input: a mistake in a project file or an option, or the port cannot be had
  130  a second signal: stopped at once, without the summary";

pub(crate) const GENERATE_EXITS: &str = "\
Exit codes:
  0    the generated files were written, or with --check are up to date
  1    with --check: a generated file is stale
  2    bad input: a mistake in a project file or an option";

pub(crate) const COVERAGE_EXITS: &str = "\
Exit codes:
  0    COVERAGE.md written, or with --check up to date
  1    with --check: a COVERAGE.md is out of date
  2    bad input: a mistake in a project file or an option";

#[derive(Parser)]
#[command(
    name = "conform",
    version,
    // A flag given twice (by a wrapper such as xtask and by its user) means it once.
    args_override_self = true,
    about = "Conformance harness for AWS XML APIs: replays YAML scenarios against an endpoint and compares the answers with snapshots",
    after_help = EXITS
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
    #[command(after_help = RUN_EXITS)]
    Run(Box<RunArgs>),
    /// List the cases (test names), optionally filtered.
    #[command(after_help = LIST_EXITS)]
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
    #[command(after_help = CHECK_EXITS)]
    Check {
        /// Rewrite snapshot headers that no longer say what their case says (contents are
        /// left as they are).
        #[arg(long)]
        fix_headers: bool,
        /// Check anew even when no input changed since the last passing check (by default
        /// its output is given again: the fingerprint of every scenario, snapshot, model,
        /// baseline and the targets file, and of this build of conform, is the same).
        #[arg(long)]
        no_cache: bool,
    },
    /// Scenarios x targets from the JSON reports of runs: pass, fail or baselined, with pass
    /// rates per operation and overall.
    #[command(after_help = REPORTS_EXITS)]
    Matrix {
        /// The JSON reports of runs (`run --report-json`, or `merge --json`), one or more
        /// per target.
        #[arg(required = true)]
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
    #[command(after_help = REPORTS_EXITS)]
    Merge {
        /// The shards' JSON reports.
        #[arg(required = true)]
        reports: Vec<PathBuf>,
        /// Write the merged report as JSON (the schema `run --report-json` writes).
        #[arg(long)]
        json: Option<PathBuf>,
        /// Write the merged report as JUnit XML (as `run --report-junit`; known deviations skipped).
        #[arg(long)]
        junit: Option<PathBuf>,
        /// Write the merged report as Markdown (as `run --report-md`).
        #[arg(long)]
        md: Option<PathBuf>,
        /// A self-contained HTML page with side-by-side diffs (as `run --report-html`).
        #[arg(long, alias = "report-html")]
        html: Option<PathBuf>,
        #[command(flatten)]
        page: PageArgs,
    },
    /// Record fresh snapshots against a real target (AWS, or a local endpoint to try it).
    #[command(after_help = RECORD_EXITS)]
    Record(RecordArgs),
    /// Delete what recordings left behind: the resources each service's resources file names
    /// (IAM roles, users, policies, providers, SNS topics, ...) tagged `conform`, and IAM
    /// groups (which take no tags) named `conform-<run id>-...`.
    #[command(after_help = CLEANUP_EXITS)]
    Cleanup {
        /// A target of the targets file (its endpoint, region, credentials and variables;
        /// `aws` is AWS itself, even where the file does not name it), or an endpoint URL.
        #[arg(long)]
        target: String,
        /// The targets file (default: conform.toml in the project root).
        #[arg(long)]
        targets: Option<PathBuf>,
        /// Confirms acting on AWS (or set CONFORM_ALLOW_AWS=1).
        #[arg(long)]
        allow_aws: bool,
        /// Region to sign for (and, on AWS, of STS's endpoint); default: the profile's, else
        /// the target's, else us-east-1.
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
    #[command(after_help = SERVE_EXITS)]
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
    #[command(after_help = EXPORT_EXITS)]
    Export {
        /// Where to write it (created if missing).
        dir: PathBuf,
    },
    /// Write limit cases from the models: for each refused side of a constraint no
    /// hand-written case covers, scenarios/<service>/<Operation>/limits.generated.yaml and
    /// the snapshots of its cases (the refusal in the service's validation format, from
    /// models/<service>.facts.yaml).
    #[command(after_help = GENERATE_EXITS)]
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
    #[command(after_help = COVERAGE_EXITS)]
    Coverage {
        /// Do not write: fail if a COVERAGE.md is out of date.
        #[arg(long)]
        check: bool,
    },
}

#[derive(Args)]
pub(crate) struct RecordArgs {
    /// A target of the targets file (its endpoint, region, credentials and variables; `aws`
    /// is AWS itself, even where the file does not name it), or an endpoint URL.
    #[arg(long, required_unless_present = "endpoint")]
    pub(crate) target: Option<String>,
    /// The endpoint to record against, e.g. http://127.0.0.1:5000 (wins over the target's).
    #[arg(long)]
    pub(crate) endpoint: Option<String>,
    /// The targets file (default: conform.toml in the project root).
    #[arg(long)]
    pub(crate) targets: Option<PathBuf>,
    /// Confirms recording against AWS (or set CONFORM_ALLOW_AWS=1).
    #[arg(long)]
    pub(crate) allow_aws: bool,
    /// Region (AWS: STS's regional endpoint, the global one for us-east-1); default: the
    /// profile's region, else the target's, else us-east-1.
    #[arg(long)]
    pub(crate) region: Option<String>,
    /// A profile of the shared config and credentials files (the standard AWS chain is used
    /// for a target whose credentials are "chain", such as `aws`, and for any target when a
    /// profile is named).
    #[arg(long)]
    pub(crate) profile: Option<String>,
    /// Substrings of test names to record (all when none).
    #[arg(long = "filter")]
    pub(crate) filters: Vec<String>,
    /// Record only the cases that have no recorded snapshot yet, leaving the others as they
    /// are (VCR's new_episodes): no .snap file, or one whose header says its answers did
    /// not come from this target (for AWS: not `recorded`).
    #[arg(long)]
    pub(crate) missing: bool,
    /// Print what would be created and called, send nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Cases in flight at once.
    #[arg(long, default_value_t = 2)]
    pub(crate) jobs: usize,
    /// Target variables, NAME=VALUE (over the target's own).
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
    /// baseline (flags given here win), or an endpoint URL (as --endpoint). `replay` is the
    /// built-in replay server. A target with a start recipe (moto, localstack) is installed,
    /// started on a free loopback port and stopped when the run ends, unless --endpoint names
    /// one already running.
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
    /// Print each request (method, URL, headers, body) and each answer (status, headers,
    /// body) of every step as it happens, to stderr, every secret of the run masked and the
    /// signature left out; bodies past 4 KB are cut with a note.
    #[arg(long, short = 'v')]
    pub(crate) verbose: bool,
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
    #[command(flatten)]
    pub(crate) page: PageArgs,
    /// Print a GitHub `::error` annotation at the scenario file and line of each case with
    /// new deviations or an error (`auto`: when GITHUB_ACTIONS=true).
    #[arg(long, value_enum, default_value_t = Annotations::Auto)]
    pub(crate) annotations: Annotations,
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

/// What a run or a merge writes for a CI page beyond the report files.
#[derive(Args, Clone, Copy)]
pub(crate) struct PageArgs {
    /// Cut the Markdown report (the file and the job summary) to this many bytes, whole cases
    /// at a time, with a note of what was left out (65536 fits a GitHub pull-request comment).
    #[arg(long, value_parser = clap::value_parser!(u64).range(4096..))]
    pub(crate) md_max_bytes: Option<u64>,
    /// Do not append the Markdown report to $GITHUB_STEP_SUMMARY (the job summary GitHub
    /// shows), as is done whenever that variable is set: for shards whose merge writes it.
    #[arg(long)]
    pub(crate) no_step_summary: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Annotations {
    /// GitHub's when GITHUB_ACTIONS=true, else none.
    Auto,
    /// GitHub Actions workflow commands on stdout.
    Github,
    /// No annotations, on GitHub too.
    None,
}

impl Annotations {
    pub(crate) fn github(self, env: impl Fn(&str) -> Option<String>) -> bool {
        match self {
            Annotations::Auto => env("GITHUB_ACTIONS").as_deref() == Some("true"),
            Annotations::Github => true,
            Annotations::None => false,
        }
    }
}

/// Fills what the flags leave open from the named target of the targets file (`targets`,
/// unless --targets names another), or takes a URL for --endpoint. A target with a start
/// recipe is started by the run, unless --endpoint names one already running: the file's
/// endpoint is then not used.
pub(crate) fn with_target(mut args: RunArgs, targets: &std::path::Path) -> anyhow::Result<RunArgs> {
    let Some(name) = args.target.clone() else {
        return Ok(args);
    };
    if is_url(&name) {
        args.endpoint = args.endpoint.or(Some(name));
        args.target = None;
        return Ok(args);
    }
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

/// Whether `--target` names an endpoint rather than a target of the targets file.
fn is_url(target: &str) -> bool {
    target.contains("://")
}

/// What `record` and `cleanup` act on: `--target` (a target of the targets file or a URL)
/// and `--endpoint`, which wins over the target's. `aws` is AWS itself even where the file
/// does not name it, so `--target aws` works in any project.
pub(crate) fn acting(
    target: Option<&str>,
    endpoint: Option<&str>,
    targets: Option<&std::path::Path>,
    root: &std::path::Path,
) -> anyhow::Result<conform::target::Acting> {
    use conform::target::{AWS_IAM_ENDPOINT, AWS_STS_ENDPOINT, Acting};
    use conform::targets::{CredentialSource, Targets};
    let mut acting = match target {
        None => Acting::default(),
        Some(url) if is_url(url) => Acting {
            name: url.to_owned(),
            endpoint: url.to_owned(),
            ..Acting::default()
        },
        Some(name) => {
            let file = targets.map_or_else(|| root.join("conform.toml"), ToOwned::to_owned);
            let loaded = if file.exists() || targets.is_some() {
                Some(Targets::load(&file)?)
            } else {
                None
            };
            let known = loaded
                .as_ref()
                .is_some_and(|t| t.names().any(|n| n == name));
            if name == "aws" && !known {
                Acting {
                    name: name.to_owned(),
                    endpoint: AWS_STS_ENDPOINT.to_owned(),
                    credentials: CredentialSource::Chain,
                    service_endpoints: [("iam".to_owned(), AWS_IAM_ENDPOINT.to_owned())].into(),
                    ..Acting::default()
                }
            } else {
                let Some(loaded) = loaded else {
                    anyhow::bail!(
                        "{}: no such file, so no target named `{name}`; give --targets FILE, or --target URL",
                        file.display()
                    );
                };
                let spec = loaded.get(name)?;
                Acting {
                    name: name.to_owned(),
                    endpoint: spec.endpoint.clone().unwrap_or_default(),
                    file_region: spec.region.clone(),
                    credentials: spec.credentials.clone(),
                    service_endpoints: spec.endpoints.clone(),
                    vars: spec.vars.iter().map(|(k, v)| format!("{k}={v}")).collect(),
                    max_answer_bytes: spec.max_answer_bytes,
                    ..Acting::default()
                }
            }
        }
    };
    if let Some(url) = endpoint {
        acting.endpoint = url.to_owned();
        if acting.name.is_empty() {
            acting.name = url.to_owned();
        }
    }
    if acting.endpoint.is_empty() {
        anyhow::bail!(
            "target `{}` has no endpoint: it is the built-in replay server, which answers from the snapshots; record and cleanup need a real one (give --endpoint URL, or a target with an endpoint)",
            acting.name
        );
    }
    Ok(acting)
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

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    /// Every argument and option of every command, with the path of commands to it.
    fn every_arg(cmd: &clap::Command, path: &str, out: &mut Vec<(String, clap::Arg)>) {
        for a in cmd.get_arguments() {
            out.push((path.to_owned(), a.clone()));
        }
        for sub in cmd.get_subcommands() {
            every_arg(sub, &format!("{path} {}", sub.get_name()), out);
        }
    }

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_option_and_argument_says_what_it_is() {
        let mut args = Vec::new();
        every_arg(&Cli::command(), "conform", &mut args);
        let silent: Vec<String> = args
            .iter()
            .filter(|(_, a)| a.get_help().is_none() && a.get_long_help().is_none())
            .map(|(path, a)| format!("{path}: {}", a.get_id()))
            .collect();
        assert!(args.len() > 60, "the walk found {} args", args.len());
        assert!(
            silent.is_empty(),
            "without help text:\n{}",
            silent.join("\n")
        );
    }

    #[test]
    fn every_command_says_what_it_does_and_what_its_exit_codes_mean() {
        let cli = Cli::command();
        assert!(
            cli.get_after_help()
                .is_some_and(|h| h.to_string().contains("Exit codes"))
        );
        for sub in cli.get_subcommands() {
            let name = sub.get_name();
            assert!(sub.get_about().is_some(), "{name} has no description");
            let after = sub
                .get_after_help()
                .map(ToString::to_string)
                .unwrap_or_default();
            assert!(after.starts_with("Exit codes"), "{name}: {after:?}");
            assert!(
                after.contains("\n  0 ") && after.contains("\n  2 "),
                "{name}: {after}"
            );
        }
    }
}
