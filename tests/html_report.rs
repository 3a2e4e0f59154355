//! The HTML pages as a browser shows them: the real `conform` binary writes a run's report and
//! the parity matrix from runs against the wiremock STS stand-in, headless Chromium (from
//! scripts/chromium.sh) opens them from disk with a filter in the URL fragment and runs their
//! script, and the tests read the DOM it dumps. String checks of the file alone would not see
//! a script that fails or filters the wrong rows.

mod common;

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::{Deviation, start};
use conform::report::{CaseOutcome, RunReport};

/// A cold start on a loaded two-core machine takes seconds; a hang is far longer.
const BROWSER_DEADLINE: Duration = Duration::from_secs(120);

/// The case the `ChangedMessage` stand-in answers with another message than the snapshot's.
const FAILING: &str = "sts::AssumeRole::assume_role_session_name_too_short";

fn conform(root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_conform"))
        .arg("--root")
        .arg(root)
        .args(args)
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env("CI", "")
        .output()
        .expect("conform runs")
}

/// Chromium's path, from scripts/chromium.sh, asked once per test binary so that parallel
/// tests never run two installs at once.
fn chromium() -> &'static Path {
    static BROWSER: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let found = BROWSER.get_or_init(|| {
        let script = common::repo().join("scripts/chromium.sh");
        let out = Command::new("bash")
            .arg(&script)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let path = stdout.lines().last().map(str::trim).unwrap_or_default();
        if !out.status.success() || path.is_empty() || !Path::new(path).exists() {
            return Err(format!(
                "{} found no Chromium ({}):\n{}",
                script.display(),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(PathBuf::from(path))
    });
    match found {
        Ok(p) => p,
        Err(e) => panic!(
            "the HTML report tests need headless Chromium: run `bash scripts/chromium.sh` (it \
             installs Debian's chromium package) or set CONFORM_CHROMIUM to a Chromium binary.\n{e}"
        ),
    }
}

/// Ends Chromium and every helper it started: they share the process group it was given.
fn kill_group(pgid: u32) {
    let Ok(pgid) = i32::try_from(pgid) else {
        return;
    };
    // SAFETY: kill(2) with a negative pid signals only the group this test created for the
    // browser; it touches no memory.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
}

/// The DOM of `page` after its script ran, as headless Chromium serializes it, with
/// `fragment` (`status=fail`, or empty) in the URL.
fn render(page: &Path, fragment: &str) -> String {
    let browser = chromium();
    let work = tempfile::tempdir().expect("a temp dir");
    let profile = work.path().join("profile");
    let dom_path = work.path().join("dom.html");
    let log_path = work.path().join("chromium.log");
    let url = format!(
        "file://{}#{fragment}",
        page.display()
            .to_string()
            .replace('%', "%25")
            .replace(' ', "%20")
            .replace('#', "%23")
            .replace('?', "%3F")
    );
    // Files rather than pipes: the browser's helpers may hold a pipe open after it exits.
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=2000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(&url)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&dom_path).expect("a file for the DOM"))
        .stderr(std::fs::File::create(&log_path).expect("a file for the log"))
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", browser.display()));
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() < BROWSER_DEADLINE => {
                std::thread::sleep(Duration::from_millis(100))
            }
            waited => {
                kill_group(child.id());
                let _ = child.wait();
                panic!(
                    "Chromium did not finish rendering {url} within {BROWSER_DEADLINE:?} ({waited:?}); killed it.\n{}",
                    std::fs::read_to_string(&log_path).unwrap_or_default()
                );
            }
        }
    };
    // The crash handler may outlive the browser; nothing of this render should.
    kill_group(child.id());
    let dom = std::fs::read_to_string(&dom_path).unwrap_or_default();
    assert!(
        status.success() && dom.contains("</html>"),
        "Chromium ({status}) dumped no page for {url}:\n{}",
        std::fs::read_to_string(&log_path).unwrap_or_default()
    );
    dom
}

/// Every element of `tag` whose opening tag starts with `open`, from its opening tag to its
/// matching close, counting nested elements of the same tag.
fn elements<'a>(dom: &'a str, open: &str, tag: &str) -> Vec<&'a str> {
    let end_tag = format!("</{tag}>");
    // `<tr` must not find `<track`: an opening tag is the name, then a space or `>`.
    let next_open = |from: usize| {
        [format!("<{tag} "), format!("<{tag}>")]
            .iter()
            .filter_map(|t| dom[from..].find(t.as_str()).map(|j| j + from))
            .min()
    };
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(i) = dom[from..].find(open).map(|i| i + from) {
        let (mut depth, mut at) = (0usize, i);
        let end = loop {
            let next_open = next_open(at + 1);
            let Some(close) = dom[at..].find(&end_tag).map(|j| j + at) else {
                break dom.len();
            };
            match next_open {
                Some(o) if o < close => {
                    depth += 1;
                    at = o;
                }
                _ if depth > 0 => {
                    depth -= 1;
                    at = close + 1;
                }
                _ => break close + end_tag.len(),
            }
        };
        found.push(&dom[i..end]);
        from = end;
    }
    found
}

/// The opening tag of an element.
fn open_tag(element: &str) -> &str {
    element.find('>').map_or(element, |i| &element[..=i])
}

fn is_hidden(element: &str) -> bool {
    open_tag(element).contains(" hidden")
}

/// What the element's text reads, tags dropped and entities decoded.
fn text(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for ch in html.chars() {
        match ch {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&")
}

fn counter(dom: &str) -> String {
    let shown = elements(dom, "<p id=\"shown\"", "p");
    assert_eq!(shown.len(), 1, "one counter:\n{dom}");
    text(shown[0])
}

/// The case (a tbody of the report) whose name cell reads `name`.
fn case_element<'a>(cases: &[&'a str], name: &str) -> &'a str {
    cases
        .iter()
        .find(|c| {
            elements(c, "<tr class=\"summary\"", "tr")
                .first()
                .is_some_and(|row| {
                    elements(row, "<td", "td").get(1).map(|td| text(td)) == Some(name.to_owned())
                })
        })
        .unwrap_or_else(|| panic!("no row for {name}"))
}

/// A run against the stand-in with the given deviation, its JSON report and its HTML page.
async fn run_against(
    deviation: Deviation,
    name: &str,
    dir: &Path,
) -> (RunReport, PathBuf, PathBuf) {
    let server = start(deviation).await;
    let (_project, root) = common::starter_copy();
    let json = dir.join(format!("{name}.json"));
    let html = dir.join(format!("{name}.html"));
    let o = conform(
        &root,
        &[
            "run",
            "--endpoint",
            &server.uri(),
            "--no-new",
            "--target-name",
            name,
            "--report-json",
            json.to_str().expect("a UTF-8 temp path"),
            "--report-html",
            html.to_str().expect("a UTF-8 temp path"),
        ],
    );
    let report: RunReport = serde_json::from_str(
        &std::fs::read_to_string(&json).unwrap_or_else(|e| panic!("no JSON report ({e}): {o:?}")),
    )
    .expect("the JSON report parses");
    (report, json, html)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_report_filters_from_the_fragment_and_shows_diffs_side_by_side() {
    if common::skipped(common::Install::Chromium) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (report, _, page) = run_against(Deviation::ChangedMessage, "emu", dir.path()).await;
    let all = report.cases.len();
    let failing = report
        .cases
        .iter()
        .filter(|c| c.outcome == CaseOutcome::Fail)
        .count();
    assert!(
        failing >= 1 && failing < all && report.cases.iter().any(|c| c.name == FAILING),
        "the stand-in should fail some cases and pass others: {report:?}"
    );

    // Without a filter, every case is there.
    let dom = render(&page, "");
    assert_eq!(counter(&dom), format!("{all} of {all} cases shown"));
    let cases = elements(&dom, "<tbody class=\"case\"", "tbody");
    assert_eq!(cases.len(), all, "{dom}");
    assert!(cases.iter().all(|c| !is_hidden(c)), "{dom}");
    assert!(
        !is_hidden(elements(&dom, "<form id=\"filters\"", "form")[0]),
        "the script shows the filters"
    );

    // `#status=fail` keeps the failing cases and hides the others.
    let dom = render(&page, "status=fail");
    assert_eq!(counter(&dom), format!("{failing} of {all} cases shown"));
    let cases = elements(&dom, "<tbody class=\"case\"", "tbody");
    assert_eq!(cases.len(), all);
    for c in &cases {
        let fails = open_tag(c).contains("data-status=\"fail\"");
        assert_eq!(is_hidden(c), !fails, "{}", open_tag(c));
    }
    let passing = cases
        .iter()
        .filter(|c| open_tag(c).contains("data-status=\"pass\""))
        .count();
    assert!(passing > 0, "{dom}");

    // The failing case's diff: the snapshot's message on the left, the answer's on the right,
    // on one row.
    let case = case_element(&cases, FAILING);
    let changed = elements(case, "<tr class=\"changed\"", "tr");
    let row = changed
        .iter()
        .find(|r| text(r).contains("<Message>"))
        .unwrap_or_else(|| panic!("no changed row with the message:\n{case}"));
    let cell = |class: &str| text(elements(row, &format!("<td class=\"{class}\""), "td")[0]);
    assert!(
        cell("old").ends_with("Member must have length greater than or equal to 2</Message>"),
        "{row}"
    );
    assert!(
        cell("new").ends_with("Member must have length greater than or equal to 3</Message>"),
        "{row}"
    );
    assert!(
        row.contains("<mark>2</mark>") && row.contains("<mark>3</mark>"),
        "{row}"
    );

    // Above the diff, the deviation as data: step, kind, path, both values, new.
    let devs = elements(case, "<table class=\"deviations\"", "table");
    assert_eq!(devs.len(), 1, "{case}");
    let row = text(elements(devs[0], "<tr class=\"new\"", "tr")[0]);
    assert!(
        row.starts_with("1error-messageErrorResponse/Error/Message1 validation error detected")
            && row.ends_with("greater than or equal to 3new"),
        "{row}"
    );
    // The agreement table: every case agrees up to the code, one of them not on the message.
    let levels = text(elements(&dom, "<table class=\"levels\"", "table")[0]);
    assert!(levels.contains(&format!("all{all}")), "{levels}");

    // Filters combine, and a fragment the page cannot read filters nothing.
    let dom = render(&page, "operation=GetCallerIdentity&status=pass");
    let gci = report
        .cases
        .iter()
        .filter(|c| c.operation == "GetCallerIdentity" && c.outcome == CaseOutcome::Pass)
        .count();
    assert_eq!(counter(&dom), format!("{gci} of {all} cases shown"));
    let dom = render(&page, "status=%E0%A4%A&kind=no-such-kind");
    assert_eq!(counter(&dom), format!("{all} of {all} cases shown"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_matrix_page_shows_each_targets_cell_and_filters_rows() {
    if common::skipped(common::Install::Chromium) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (good, good_json, _) = run_against(Deviation::None, "good", dir.path()).await;
    let (bad, bad_json, _) = run_against(Deviation::ChangedMessage, "bad", dir.path()).await;
    assert!(
        good.cases.iter().all(|c| c.outcome == CaseOutcome::Pass),
        "{good:?}"
    );
    let page = dir.path().join("matrix.html");
    let (_project, root) = common::starter_copy();
    let o = conform(
        &root,
        &[
            "matrix",
            good_json.to_str().unwrap(),
            bad_json.to_str().unwrap(),
            "--html",
            page.to_str().unwrap(),
        ],
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{o:?}");
    assert!(
        !stdout.contains("| operation"),
        "with --html alone, no Markdown on stdout: {stdout}"
    );

    let all = bad.cases.len();
    let failing = bad
        .cases
        .iter()
        .filter(|c| c.outcome == CaseOutcome::Fail)
        .count();
    let dom = render(&page, "status=fail");
    assert_eq!(counter(&dom), format!("{failing} of {all} cases shown"));
    let rows = elements(&dom, "<tr class=\"case\"", "tr");
    assert_eq!(rows.len(), all, "{dom}");
    let row = rows
        .iter()
        .find(|r| text(r).contains(FAILING))
        .unwrap_or_else(|| panic!("no row for {FAILING}:\n{dom}"));
    assert!(!is_hidden(row), "{row}");
    let cells: Vec<&str> = elements(row, "<td class=\"cell", "td");
    assert_eq!(
        cells.iter().map(|c| open_tag(c)).collect::<Vec<_>>(),
        ["<td class=\"cell pass\">", "<td class=\"cell fail\">"],
        "good passes, bad fails: {row}"
    );
    // The failing cell says the last level it agrees at: the code (its message differs).
    assert_eq!(text(cells[1]), "fail (code)", "{row}");
    // Per target and level: bad agrees on status and code everywhere, not on every message.
    let levels = elements(&dom, "<table class=\"levels\"", "table");
    let bad_row = elements(levels[0], "<tr>", "tr")
        .into_iter()
        .map(text)
        .find(|r| r.starts_with("bad"))
        .unwrap_or_else(|| panic!("no level row for bad:\n{dom}"));
    let share = |n: usize| format!("{}% ({n})", n * 100 / all);
    assert!(
        bad_row.starts_with(&format!(
            "bad{all}{}{}{}",
            share(all),
            share(all),
            share(all - failing)
        )),
        "{bad_row}"
    );
    assert!(
        rows.iter()
            .filter(|r| !text(r).contains(FAILING))
            .all(|r| is_hidden(r) != open_tag(r).contains("fail")),
        "{dom}"
    );

    // `merge` writes the same page for shards joined into one report.
    let merged = dir.path().join("merged.html");
    let o = conform(
        &root,
        &[
            "merge",
            bad_json.to_str().unwrap(),
            "--report-html",
            merged.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{o:?}");
    let html = std::fs::read_to_string(&merged).expect("merge wrote the page");
    assert!(
        html.contains(&format!("{all} of {all} cases shown"))
            && html.contains("conform against bad"),
        "{html}"
    );
}
