//! What an endpoint says reaches people through the terminal and the reports. An endpoint
//! that answers with terminal control sequences must not drive the terminal or hide text
//! in a report, and one that answers with megabytes must not make every output megabytes.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// Answers GetCallerIdentity with `xml` (as XML) and everything else with `text`.
async fn endpoint(xml: String, text: String) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(move |req: &Request| {
            if common::action(&req.body) == "GetCallerIdentity" {
                ResponseTemplate::new(200).set_body_raw(xml.clone(), "text/xml")
            } else {
                ResponseTemplate::new(400).set_body_raw(text.clone(), "text/plain")
            }
        })
        .mount(&server)
        .await;
    server
}

struct Run {
    out: Output,
    reports: PathBuf,
    _dir: tempfile::TempDir,
}

fn run(server: &MockServer) -> Run {
    let (dir, root) = common::starter_copy();
    let (out, files) = common::run_reporting(&root, &server.uri());
    let reports = files[0].parent().unwrap().to_owned();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Run {
        out,
        reports,
        _dir: dir,
    }
}

/// The first raw control character in `text` (tab and newline aside, CR only before LF),
/// with a little context.
fn raw_control(text: &str) -> Option<String> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    chars.iter().enumerate().find_map(|(k, &(i, c))| {
        let bad = match c {
            '\t' | '\n' => false,
            '\r' => chars.get(k + 1).map(|x| x.1) != Some('\n'),
            c => c.is_control(),
        };
        bad.then(|| {
            let from = text[..i].char_indices().rev().nth(30).map_or(0, |x| x.0);
            format!("{:?} at byte {i}: {:?}", c, &text[from..i])
        })
    })
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[tokio::test(flavor = "multi_thread")]
async fn control_characters_from_an_endpoint_are_shown_never_sent() {
    // An ANSI colour, a screen clear, a bell, a backspace, a lone carriage return (which
    // would let a line overwrite itself) and a C1 control sequence introducer.
    let nasty = "\u{1b}[31mred\u{1b}[0m\u{7}bell\u{8}\u{8}back\roverwritten\u{1b}[2J\u{9b}6n";
    let xml = format!(
        "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
         <GetCallerIdentityResult><Arn>{nasty}</Arn><UserId>AIDA</UserId><Account>1</Account>\
         </GetCallerIdentityResult></GetCallerIdentityResponse>"
    );
    let server = endpoint(xml, format!("plain answer: {nasty}\n")).await;
    let r = run(&server);
    let stdout = String::from_utf8(r.out.stdout.clone()).expect("stdout is UTF-8");
    assert_eq!(raw_control(&stdout), None, "stdout:\n{stdout}");
    // The characters are there to be seen, spelled out.
    assert!(stdout.contains("\\u{1b}[31mred"), "{stdout}");
    assert!(
        stdout.contains("\\u{7}bell\\u{8}\\u{8}back\\u{d}overwritten"),
        "{stdout}"
    );
    assert!(stdout.contains("\\u{9b}6n"), "{stdout}");
    for name in ["run.md", "run.html", "run.xml", "run.json"] {
        let text = read(&r.reports.join(name));
        assert_eq!(raw_control(&text), None, "{name}");
    }
    let md = read(&r.reports.join("run.md"));
    assert!(md.contains("plain answer: \\u{1b}[31mred"), "{md}");
    let html = read(&r.reports.join("run.html"));
    assert!(html.contains("\\u{7}bell"), "the HTML shows them too");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_multi_megabyte_answer_is_cut_in_every_output_with_a_note() {
    // About 3.4 MB in 2,000 lines, as text and as XML. (Lines are long so that the diff
    // itself stays cheap to compute: its cost grows with lines times differing lines.)
    let filler = "and on ".repeat(240);
    let lines: Vec<String> = (0..2_000)
        .map(|i| format!("line {i:06} of an answer that goes on {filler}"))
        .collect();
    let text = lines.join("\n");
    let xml = format!(
        "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
         <GetCallerIdentityResult><Arn>{}</Arn></GetCallerIdentityResult></GetCallerIdentityResponse>",
        lines.join("</Arn><Arn>")
    );
    assert!(text.len() > 3_000_000 && xml.len() > 3_000_000);
    let server = endpoint(xml, text).await;
    let r = run(&server);
    let stdout = String::from_utf8_lossy(&r.out.stdout);
    // Four failing cases, each diff cut at 64 KB, with room for the rest of what is printed.
    let bound = 4 * (64 * 1024 + 16 * 1024);
    assert!(stdout.len() < bound, "stdout holds {} bytes", stdout.len());
    let note = |text: &str| {
        text.contains(" more lines (")
            && text.contains(" MB) not shown; the whole transcript is in ")
            && text.contains(".snap.new when conform writes one")
    };
    assert!(
        note(&stdout),
        "{}",
        &stdout[stdout.len().saturating_sub(2000)..]
    );
    // The renderings carry the same cut diffs and list at most 200 deviations a case.
    for name in ["run.md", "run.html", "run.xml"] {
        let text = read(&r.reports.join(name));
        assert!(text.len() < 2 * bound, "{name} holds {} bytes", text.len());
        assert!(
            text.contains(" more lines (") && text.contains(".snap.new when conform writes one"),
            "{name} has no note"
        );
    }
    // The JSON is data for the gate and the baselines: it keeps every deviation (each
    // value already shortened), but its texts are cut like the rest.
    let json: serde_json::Value = serde_json::from_str(&read(&r.reports.join("run.json"))).unwrap();
    let cases = json["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 4);
    for c in cases {
        let diff: conform::deviation::Diff =
            serde_json::from_value(c["diff"].clone()).unwrap_or_else(|e| panic!("{e}: {c}"));
        let shown = diff.to_string();
        assert!(shown.len() < 64 * 1024 + 1024, "{}", shown.len());
        let cut = diff.cut.as_ref().unwrap_or_else(|| panic!("not cut: {c}"));
        assert!(cut.lines > 0 && cut.bytes > 1_000_000, "{cut:?}");
        assert!(
            cut.whole.contains(".snap.new when conform writes one"),
            "{cut:?}"
        );
        assert!(shown.ends_with(&cut.to_string()));
    }
    assert!(
        cases
            .iter()
            .any(|c| c["deviations"].as_array().unwrap().len() > 1_000),
        "the XML answer differs in 2,000 elements"
    );
    // The whole answer is where the note says.
    let new = r
        .reports
        .parent()
        .unwrap()
        .join("snapshots/sts/AssumeRole/assume_role_session_name_too_short.snap.new");
    assert!(read(&new).contains("line 001999 of an answer"));
}
