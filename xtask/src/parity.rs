//! `cargo xtask parity`: the corpus against every measured target, and docs/parity.md and
//! docs/parity.html written from the reports.

use std::path::Path;
use std::process::ExitCode;

use anyhow::bail;

use crate::conformance::{ConformanceArgs, conformance};
use crate::process::run_conform;
use crate::workspace;

/// What the corpus's expected answers rest on, for the parity page: how many cases cite a
/// recording of AWS, and which element orders are only documented.
fn corpus_truth(root: &Path) -> anyhow::Result<String> {
    use conform::scenario::Provenance;
    let suite = conform::suite::Suite::load(&conform::suite::Layout::at(root))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let n = |p| suite.cases.iter().filter(|c| c.provenance == p).count();
    let total = suite.cases.len().max(1);
    let recorded = n(Provenance::Recorded);
    let mut out = format!(
        "What the expected answers rest on: {recorded} of {} cases ({:.0}%) on a recording of AWS \
         (cited `[R:id]`, listed in `models/<service>.facts.yaml`), {} on documents, {} on inference \
         (each operation's counts are in `scenarios/<service>/COVERAGE.md`). An emulator that \
         differs from an inferred answer may be right.",
        suite.cases.len(),
        recorded as f64 * 100.0 / total as f64,
        n(Provenance::Documented),
        n(Provenance::Inferred),
    );
    for (service, facts) in &suite.facts {
        let documented: Vec<String> = facts
            .documented_orders()
            .map(|o| format!("`{}`", o.path))
            .collect();
        if !documented.is_empty() {
            out.push_str(&format!(
                " {service}: element order at {} is documented, not recorded, so no emulator is judged on it (each target's Not judged list counts what was left out).",
                documented.join(" and ")
            ));
        }
    }
    Ok(out)
}

/// Runs the corpus against every measured target and writes docs/parity.md and
/// docs/parity.html from their reports, dated and with each target's version.
pub(crate) fn parity() -> anyhow::Result<ExitCode> {
    let root = workspace();
    let dir = root.join("target").join("parity");
    std::fs::create_dir_all(&dir)?;
    let mut failed = Vec::new();
    let mut reports = Vec::new();
    for name in ["replay", "moto", "localstack"] {
        let json = dir.join(format!("{name}.json"));
        let _ = std::fs::remove_file(&json);
        // Each report carries its judgement: the target's baseline and not-judged rules.
        let target = (name != "replay").then_some(name);
        eprintln!("== {name}");
        if conformance(ConformanceArgs::for_parity(target, &json))? != ExitCode::SUCCESS {
            failed.push(name);
        }
        anyhow::ensure!(json.exists(), "the {name} run wrote no report; see above");
        reports.push(json.display().to_string());
    }
    let md = dir.join("matrix.md");
    let mut cmd: Vec<String> = vec!["matrix".to_owned()];
    cmd.extend(reports);
    cmd.extend(["--md".to_owned(), md.display().to_string()]);
    cmd.extend(["--html".to_owned(), "docs/parity.html".to_owned()]);
    let refs: Vec<&str> = cmd.iter().map(String::as_str).collect();
    if run_conform(&refs, &[])? != ExitCode::SUCCESS {
        bail!("conform matrix failed");
    }
    let today = time::OffsetDateTime::now_utc().date();
    let truth = corpus_truth(&root)?;
    let header = format!(
        "# Parity: what each target does with the corpus\n\n\
         Generated on {today} by `cargo xtask parity` (conform {}): the whole corpus against the\n\
         built-in replay server, moto and LocalStack, each emulator judged with its baseline and\n\
         what it is declared not to be judged on (`conform.toml`, and for every emulator the\n\
         element orders AWS is only documented to use, from the service's facts). A case is graded on six\n\
         levels, each including the ones before it: the HTTP status (and content type), the\n\
         error code and type, the message, the structure (the same elements, order aside), the\n\
         element order, and every value (a full pass). `baselined` marks a case whose deviations\n\
         are all listed in `baselines/<target>.toml` ([parity.html](parity.html) shows the\n\
         reason on hover); in parentheses, the last level the case agrees at; `-` marks a case the\n\
         target did not run (the replay server skips the cases that need a real account). The\n\
         README's Parity section explains the numbers.\n\n{truth}\n\n",
        env!("CARGO_PKG_VERSION")
    );
    let matrix = std::fs::read_to_string(&md)?;
    std::fs::write(root.join("docs/parity.md"), header + &matrix)?;
    eprintln!("wrote docs/parity.md and docs/parity.html");
    if failed.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("the gate failed for: {}", failed.join(", "));
        Ok(ExitCode::from(1))
    }
}
