//! The COVERAGE.md files of a suite: computing each service's coverage from the loaded
//! suite, and bringing the files up to date (the only part of coverage that touches files).

use crate::answers::Answers;

use super::ServiceCoverage;

/// Each service of a loaded suite that has cases, with where its COVERAGE.md lives. Computed
/// with the default variables, as the snapshots were written; `answers` are the error steps
/// of the suite's snapshots ([`Answers::of_suite`]).
pub fn of_suite(
    suite: &crate::suite::Suite,
    answers: &Answers,
) -> Vec<(std::path::PathBuf, ServiceCoverage)> {
    let vars = crate::target::default_vars("us-east-1");
    let errors: Vec<_> = (0..suite.cases.len()).map(|i| answers.of(i)).collect();
    suite
        .models
        .values()
        .filter(|m| suite.cases.iter().any(|c| c.service == m.service))
        .map(|m| {
            let path = suite.layout.scenarios.join(&m.service).join("COVERAGE.md");
            (
                path,
                ServiceCoverage::compute(
                    m,
                    &suite.cases,
                    &errors,
                    &vars,
                    suite.facts.get(&m.service),
                ),
            )
        })
        .collect()
}

/// What `conform coverage` did with one service's COVERAGE.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileState {
    UpToDate,
    /// Out of date, and left so (a check only).
    Stale,
    Written,
}

/// One service's coverage file after `refresh`.
#[derive(Debug)]
pub struct CoverageFile {
    pub path: std::path::PathBuf,
    pub service: String,
    pub state: FileState,
    /// Constrained members without a case.
    pub gaps: usize,
}

/// Brings every COVERAGE.md up to date, or (`check_only`) says which are not.
pub fn refresh(
    suite: &crate::suite::Suite,
    check_only: bool,
) -> Result<Vec<CoverageFile>, (std::path::PathBuf, std::io::Error)> {
    let mut files = Vec::new();
    for (path, cov) in of_suite(suite, &Answers::of_suite(suite)) {
        let md = cov.to_markdown();
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        let state = if current == md {
            FileState::UpToDate
        } else if check_only {
            FileState::Stale
        } else {
            std::fs::write(&path, md).map_err(|e| (path.clone(), e))?;
            FileState::Written
        };
        files.push(CoverageFile {
            gaps: cov.uncovered_members().len(),
            service: cov.service.clone(),
            path,
            state,
        });
    }
    Ok(files)
}
