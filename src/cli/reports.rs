//! Writing a run's reports in each format asked for, and `merge` and `matrix` over written ones.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use conform::deviation::NotJudgedSet;
use conform::report::Status;

use super::*;

/// Where a run's report goes, in each format asked for.
pub(crate) struct Outputs {
    pub(crate) json: Option<PathBuf>,
    pub(crate) junit: Option<PathBuf>,
    pub(crate) md: Option<PathBuf>,
    pub(crate) html: Option<PathBuf>,
    pub(crate) page: PageArgs,
}

impl Outputs {
    pub(crate) fn of(args: &RunArgs) -> Outputs {
        Outputs {
            json: args.report_json.clone(),
            junit: args.report_junit.clone(),
            md: args.report_md.clone(),
            html: args.report_html.clone(),
            page: args.page,
        }
    }
}

pub(crate) fn write_file(path: &std::path::Path, text: String) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

pub(crate) fn write_reports(
    report: &conform::report::RunReport,
    to: Outputs,
) -> anyhow::Result<()> {
    if let Some(p) = to.json {
        write_file(&p, serde_json::to_string_pretty(report)?)?;
    }
    if let Some(p) = to.junit {
        write_file(&p, report.to_junit())?;
    }
    let md_max = to
        .page
        .md_max_bytes
        .map_or(usize::MAX, |n| usize::try_from(n).unwrap_or(usize::MAX));
    if let Some(p) = to.md {
        write_file(&p, report.to_markdown_within(md_max))?;
    }
    if let Some(p) = to.html {
        write_file(&p, conform::html::report(report))?;
    }
    if !to.page.no_step_summary
        && let Some(p) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty())
    {
        append_step_summary(report, std::path::Path::new(&p), md_max)?;
    }
    Ok(())
}

/// Appends the Markdown report to GitHub's job summary file, within what GitHub accepts
/// of one step's summary less what the step wrote there before.
fn append_step_summary(
    report: &conform::report::RunReport,
    path: &std::path::Path,
    md_max: usize,
) -> anyhow::Result<()> {
    use std::io::Write as _;
    let used = std::fs::metadata(path).map_or(0, |m| m.len());
    let room = conform::report::STEP_SUMMARY_BYTES
        .saturating_sub(usize::try_from(used).unwrap_or(usize::MAX))
        .min(md_max);
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .with_context(|| format!("cannot open the job summary {} (GITHUB_STEP_SUMMARY); --no-step-summary leaves it alone", path.display()))?;
    // A summary an earlier step left without a last newline would swallow the heading.
    let lead = if used > 0 { "\n" } else { "" };
    let md = report.to_markdown_within(room.saturating_sub(lead.len()));
    file.write_all(format!("{lead}{md}").as_bytes())
        .with_context(|| format!("cannot write the job summary {}", path.display()))
}

/// The JSON reports of earlier runs (or shards).
pub(crate) fn read_reports(paths: &[PathBuf]) -> anyhow::Result<Vec<conform::report::RunReport>> {
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

pub(crate) fn merge(paths: &[PathBuf], to: Outputs) -> anyhow::Result<ExitCode> {
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

pub(crate) fn matrix(
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
        conform::input::baseline(std::path::Path::new(file))?.judge(run, &not_judged);
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
