//! A hostile echo: an endpoint that hands the target's secret key and session token back in
//! every form it could (raw, percent-encoded in either case and mixed, form-encoded, XML
//! entities and character references, CDATA, JSON escapes, base64 whole and inside a larger
//! blob at each alignment), in an XML answer and in a non-XML one. The real binary runs
//! against it with every report written and `.snap.new` files on; no form of either canary
//! may appear in stdout, stderr or any file under the project.

mod common;

use std::path::Path;
use std::process::Command;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// The secret key holds a space (form encoding writes `+`) and an `&` (XML writes `&amp;`).
const SECRET: &str = "CANARY secret&key/for+the=echo-0815";
/// Shaped like a session token: base64 characters, slashes, pluses, padding.
const TOKEN: &str = "CANARYtoken/FwoGZXIvYXdzEJr+session/token==";

fn percent(s: &str, upper: impl Fn(usize) -> bool) -> String {
    let mut out = String::new();
    for (i, b) in s.bytes().enumerate() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else if upper(i) {
            out.push_str(&format!("%{b:02X}"));
        } else {
            out.push_str(&format!("%{b:02x}"));
        }
    }
    out
}

fn references(s: &str, spell: impl Fn(u8) -> String) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                spell(b)
            }
        })
        .collect()
}

fn xml_named(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Every spelling of `s` the endpoint sends, by name.
fn spellings(s: &str) -> Vec<(String, String)> {
    let mut out = vec![
        ("raw".into(), s.to_owned()),
        ("percent upper".into(), percent(s, |_| true)),
        ("percent lower".into(), percent(s, |_| false)),
        ("percent mixed".into(), percent(s, |i| i % 2 == 0)),
        (
            "form".into(),
            form_urlencoded::byte_serialize(s.as_bytes()).collect(),
        ),
        ("xml named".into(), xml_named(s)),
        ("xml decimal".into(), references(s, |b| format!("&#{b};"))),
        (
            "xml hex upper".into(),
            references(s, |b| format!("&#x{b:02X};")),
        ),
        (
            "xml hex lower".into(),
            references(s, |b| format!("&#x{b:02x};")),
        ),
        ("json".into(), references(s, |b| format!("\\u{:04x}", b))),
    ];
    for (name, engine) in [
        ("base64", &STANDARD),
        ("base64 unpadded", &STANDARD_NO_PAD),
        ("base64 url", &URL_SAFE),
        ("base64 url unpadded", &URL_SAFE_NO_PAD),
    ] {
        out.push((name.into(), engine.encode(s)));
    }
    out
}

/// The canary inside a larger base64 blob, starting at byte offsets 0, 1 and 2 modulo 3.
fn blobs(s: &str) -> Vec<String> {
    (0..3)
        .flat_map(|lead| {
            let mut blob = b"session-state:"[..12 + lead].to_vec();
            blob.extend_from_slice(s.as_bytes());
            blob.extend_from_slice(b";expires=never");
            [STANDARD.encode(&blob), URL_SAFE_NO_PAD.encode(&blob)]
        })
        .collect()
}

/// What must not appear anywhere: every spelling, and for the blobs the characters that
/// encode the canary's bytes alone (at each alignment).
fn forbidden(s: &str) -> Vec<(String, String)> {
    let mut out = spellings(s);
    // A form that escapes every byte but writes spaces as `+` (the HTML form encoder).
    out.push(("form plus".into(), percent(s, |_| true).replace("%20", "+")));
    let bytes = s.as_bytes();
    for skip in 0..3 {
        let whole = (bytes.len() - skip) / 3 * 3;
        let middle = &bytes[skip..skip + whole];
        out.push((
            format!("base64 in a blob, skip {skip}"),
            STANDARD_NO_PAD.encode(middle),
        ));
        out.push((
            format!("base64url in a blob, skip {skip}"),
            URL_SAFE_NO_PAD.encode(middle),
        ));
    }
    out
}

/// An XML answer with each spelling in an element of its own (escaped once more so the
/// document stays well formed), the raw canary in CDATA, and the base64 blobs.
fn xml_answer() -> String {
    let mut body = String::from(
        "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult>",
    );
    for (who, s) in [("Secret", SECRET), ("Token", TOKEN)] {
        for (i, (_, form)) in spellings(s).iter().enumerate() {
            // References are already XML; everything else is escaped as text.
            let text = if form.contains("&#") {
                form.clone()
            } else {
                xml_named(form)
            };
            body.push_str(&format!("<{who}{i}>{text}</{who}{i}>"));
        }
        body.push_str(&format!("<{who}Cdata><![CDATA[{s}]]></{who}Cdata>"));
        for (i, b) in blobs(s).iter().enumerate() {
            body.push_str(&format!("<{who}Blob{i}>{b}</{who}Blob{i}>"));
        }
    }
    body.push_str("</GetCallerIdentityResult></GetCallerIdentityResponse>");
    body
}

/// A plain-text answer: every spelling and blob on a line of its own.
fn text_answer() -> String {
    let mut body = String::from("echo of what you sent\n");
    for s in [SECRET, TOKEN] {
        for (name, form) in spellings(s) {
            body.push_str(&format!("{name}: {form}\n"));
        }
        body.push_str(&format!("cdata: <![CDATA[{s}]]>\n"));
        for b in blobs(s) {
            body.push_str(&format!("blob: {b}\n"));
        }
    }
    body
}

async fn echo_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(|req: &Request| {
            if common::action(&req.body) == "GetCallerIdentity" {
                ResponseTemplate::new(200).set_body_raw(xml_answer(), "text/xml")
            } else {
                // The token in a header value too: the content type is part of the snapshot.
                let ct = format!("text/plain; echo={}", percent(TOKEN, |_| false));
                ResponseTemplate::new(400).set_body_raw(text_answer(), ct.as_str())
            }
        })
        .mount(&server)
        .await;
    server
}

fn find_forms(what: &str, bytes: &[u8], hits: &mut Vec<String>) {
    for s in [SECRET, TOKEN] {
        for (name, form) in forbidden(s) {
            if bytes.windows(form.len()).any(|w| w == form.as_bytes()) {
                hits.push(format!("{what}: {name} of {s}"));
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn no_form_of_a_secret_reaches_any_output_or_file() {
    let server = echo_server().await;
    let (_dir, root) = common::starter_copy();
    let reports = root.join("reports");
    std::fs::create_dir_all(&reports).unwrap();
    let report = |name: &str| reports.join(name).display().to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_conform"))
        .arg("--root")
        .arg(&root)
        .args(["run", "--endpoint", &server.uri(), "--jobs", "2"])
        .args(["--report-json", &report("run.json")])
        .args(["--report-junit", &report("run.xml")])
        .args(["--report-md", &report("run.md")])
        .args(["--report-html", &report("run.html")])
        .env("AWS_ACCESS_KEY_ID", "AKIACANARYEXAMPLE000")
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_SESSION_TOKEN", TOKEN)
        .env("CI", "")
        // As on GitHub: annotations on stdout, the Markdown report in the job summary.
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", reports.join("summary.md"))
        .output()
        .expect("conform runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mut hits = Vec::new();
    find_forms("stdout", &out.stdout, &mut hits);
    find_forms("stderr", &out.stderr, &mut hits);
    let files = common::walk(&root);
    for f in &files {
        let bytes = std::fs::read(f).expect("readable");
        find_forms(&f.display().to_string(), &bytes, &mut hits);
    }
    assert!(hits.is_empty(), "leaks:\n{}", hits.join("\n"));
    // The echo did arrive, and was masked.
    assert!(stdout.contains("[redacted-secret]"), "{stdout}");

    // Everything that should have been written was, so the search above covered it.
    let annotated: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("::error "))
        .collect();
    assert!(
        annotated.iter().any(|l| l.contains("[redacted-secret]")),
        "{annotated:?}"
    );
    for name in ["run.json", "run.xml", "run.md", "run.html", "summary.md"] {
        let text = std::fs::read_to_string(reports.join(name)).expect("report written");
        assert!(text.contains("[redacted-secret]"), "{name}");
    }
    let new: Vec<&Path> = files
        .iter()
        .map(|p| p.as_path())
        .filter(|p| p.to_string_lossy().ends_with(".snap.new"))
        .collect();
    assert_eq!(new.len(), 4, "a .snap.new for every case: {new:?}");
    for p in new {
        let text = std::fs::read_to_string(p).unwrap();
        assert!(text.contains("[redacted-secret]"), "{}", p.display());
    }
}

/// Keys the endpoint hands out in its AssumeRole answer, shaped as STS's are.
const HANDED_SECRET: &str = "CANARYhandedOUTsecret0815/abcdefghijk+XY";
const HANDED_TOKEN: &str = "CANARYhandedTOKEN/FwoGZXIvYXdzEJr+handed/out==";

/// An AssumeRole answer handing out keys, then every spelling of them again in elements of
/// their own, as an endpoint that logs what it made into its answer might.
fn handing_out_answer() -> String {
    let mut body = format!(
        "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult><Credentials><AccessKeyId>ASIACANARYHANDED0000</AccessKeyId><SecretAccessKey>{HANDED_SECRET}</SecretAccessKey><SessionToken>{HANDED_TOKEN}</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration></Credentials>"
    );
    for (who, s) in [("Secret", HANDED_SECRET), ("Token", HANDED_TOKEN)] {
        for (i, (_, form)) in spellings(s).iter().enumerate() {
            let text = if form.contains("&#") {
                form.clone()
            } else {
                xml_named(form)
            };
            body.push_str(&format!("<Echo{who}{i}>{text}</Echo{who}{i}>"));
        }
        body.push_str(&format!("<Echo{who}Cdata><![CDATA[{s}]]></Echo{who}Cdata>"));
        for (i, b) in blobs(s).iter().enumerate() {
            body.push_str(&format!("<Echo{who}Blob{i}>{b}</Echo{who}Blob{i}>"));
        }
    }
    body.push_str("</AssumeRoleResult></AssumeRoleResponse>");
    body
}

/// `run --verbose` prints every request and answer as it happens: the target's own secret
/// and token, and the keys the endpoint hands out, must show in no form, in the requests
/// (a session token header, the signature) or in the answers, headers included.
#[tokio::test(flavor = "multi_thread")]
async fn a_verbose_run_shows_every_exchange_and_no_form_of_a_secret() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(|req: &Request| {
            let echo = format!("echo={}", percent(TOKEN, |_| false));
            match common::action(&req.body).as_str() {
                // Past the 4 KB a verbose run shows of a body, with its secrets at the start.
                "GetCallerIdentity" => ResponseTemplate::new(200)
                    .set_body_raw(
                        xml_answer().replace(
                            "</GetCallerIdentityResult>",
                            &format!(
                                "<Padding>{}</Padding></GetCallerIdentityResult>",
                                "x".repeat(8000)
                            ),
                        ),
                        "text/xml",
                    )
                    .insert_header("x-echo", echo.as_str()),
                "AssumeRole" => ResponseTemplate::new(200)
                    .set_body_raw(handing_out_answer(), "text/xml")
                    .insert_header("x-handed", HANDED_TOKEN),
                _ => ResponseTemplate::new(400).set_body_raw(text_answer(), "text/plain"),
            }
        })
        .mount(&server)
        .await;
    let (_dir, root) = common::starter_copy();
    let out = Command::new(env!("CARGO_BIN_EXE_conform"))
        .arg("--root")
        .arg(&root)
        .args([
            "run",
            "--verbose",
            "--endpoint",
            &server.uri(),
            "--jobs",
            "1",
            "--no-new",
        ])
        .env("AWS_ACCESS_KEY_ID", "AKIACANARYEXAMPLE000")
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_SESSION_TOKEN", TOKEN)
        .env("CI", "")
        .output()
        .expect("conform runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    // The one step of each of the four cases showed its request and its answer.
    assert_eq!(stderr.matches("\n> POST ").count(), 4, "{stderr}");
    assert_eq!(stderr.matches("\n< HTTP ").count(), 4, "{stderr}");
    assert!(stderr.contains("Signature=[left out]"), "{stderr}");
    assert!(
        stderr.contains("> x-amz-security-token: [redacted-secret]"),
        "{stderr}"
    );
    assert!(
        stderr.contains("<SecretAccessKey>[redacted-secret]</SecretAccessKey>"),
        "{stderr}"
    );
    assert!(stderr.contains("< x-handed: [redacted-secret]"), "{stderr}");
    assert!(
        stderr.contains("--verbose shows the first 4 KB of a body"),
        "{stderr}"
    );
    let mut hits = Vec::new();
    find_forms("stdout", &out.stdout, &mut hits);
    find_forms("stderr", &out.stderr, &mut hits);
    for s in [HANDED_SECRET, HANDED_TOKEN] {
        for (name, form) in forbidden(s) {
            for (what, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
                if bytes.windows(form.len()).any(|w| w == form.as_bytes()) {
                    hits.push(format!("{what}: {name} of {s}"));
                }
            }
        }
    }
    assert!(hits.is_empty(), "leaks:\n{}", hits.join("\n"));
}
