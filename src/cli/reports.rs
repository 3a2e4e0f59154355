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
}

impl Outputs {
    pub(crate) fn of(args: &RunArgs) -> Outputs {
        Outputs {
            json: args.report_json.clone(),
            junit: args.report_junit.clone(),
            md: args.report_md.clone(),
            html: args.report_html.clone(),
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
    if let Some(p) = to.md {
        write_file(&p, report.to_markdown())?;
    }
    if let Some(p) = to.html {
        write_file(&p, conform::html::report(report))?;
    }
    Ok(())
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
