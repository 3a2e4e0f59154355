//! `conform check`'s consistency rules against small projects in temp dirs: each kind of
//! contradiction is found at its case, and a corpus without one has no finding.

mod common;

use conform::consistency::{Finding, check};
use conform::suite::{Layout, Suite};

const STS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";
const FAULT: &str = "http://webservices.amazon.com/AWSFault/2005-15-09";

fn error_snap(status: &str, ns: &str, code: &str, message: &str) -> String {
    format!(
        "---\nsource: x\ndescription: x\n---\n=== step 1: AssumeRole\nHTTP {status}\ncontent-type: text/xml\n<ErrorResponse xmlns=\"{ns}\">\n  <Error>\n    <Type>Sender</Type>\n    <Code>{code}</Code>\n    <Message>{message}</Message>\n  </Error>\n  <RequestId>[request-id]</RequestId>\n</ErrorResponse>\n"
    )
}

fn case(id: &str, provenance: &str, source: &str, session: &str) -> String {
    format!(
        "  - id: {id}\n    kind: limit\n    provenance: {provenance}\n    description: d\n    source: '{source}'\n    steps:\n      - params: {{RoleArn: 'arn:aws:iam::123456789012:role/r', RoleSessionName: '{session}'}}\n"
    )
}

/// The findings of a project holding these cases (in one AssumeRole file) and snapshots.
fn findings(cases: &[String], snaps: &[(&str, String)]) -> Vec<Finding> {
    let yaml = format!("cases:\n{}", cases.concat());
    let mut files = vec![("scenarios/sts/AssumeRole/a.yaml".to_owned(), yaml)];
    for (id, s) in snaps {
        files.push((format!("snapshots/sts/AssumeRole/{id}.snap"), s.clone()));
    }
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let (_dir, root) = common::project(&refs);
    let suite = Suite::load(&Layout::at(&root)).expect("the project loads");
    check(&suite, &conform::answers::Answers::of_suite(&suite))
}

fn too_long(session: &str) -> String {
    format!(
        "1 validation error detected: Value '{session}' at 'roleSessionName' failed to satisfy constraint: Member must have length less than or equal to 64"
    )
}

#[test]
fn a_consistent_corpus_has_no_finding() {
    let long = "s".repeat(65);
    let f = findings(
        &[
            case(
                "a",
                "recorded",
                "[R:localstack-sts test_assume_role_session_name_too_long]",
                &long,
            ),
            case("b", "inferred", "the same rule", &"t".repeat(65)),
        ],
        &[
            (
                "a",
                error_snap("400 Bad Request", STS, "ValidationError", &too_long(&long)),
            ),
            (
                "b",
                error_snap(
                    "400 Bad Request",
                    STS,
                    "ValidationError",
                    &too_long(&"t".repeat(65)),
                ),
            ),
        ],
    );
    assert_eq!(f, [], "{f:#?}");
}

#[test]
fn sources_must_say_where_answers_come_from() {
    let long = "s".repeat(65);
    let snap = error_snap("400 Bad Request", STS, "ValidationError", &too_long(&long));
    let f = findings(
        &[
            case("uncited", "recorded", "a recording somewhere", &long),
            case("unknown", "inferred", "[R:localstak-sts x] as there", &long),
        ],
        &[("uncited", snap.clone()), ("unknown", snap)],
    );
    let messages: Vec<_> = f
        .iter()
        .map(|f| (f.case.as_str(), f.message.as_str()))
        .collect();
    assert!(
        messages.contains(&(
            "sts::AssumeRole::uncited",
            "a recorded case cites no recording"
        )),
        "{f:#?}"
    );
    assert!(
        f.iter().any(|f| f.case == "sts::AssumeRole::unknown"
            && f.message.starts_with("`[R:localstak-sts]` is no recording")
            && f.help == "did you mean `[R:localstack-sts]`?"),
        "{f:#?}"
    );
    assert!(
        f.iter()
            .all(|f| f.file == "scenarios/sts/AssumeRole/a.yaml" && f.line > 0),
        "{f:#?}"
    );
}

#[test]
fn messages_follow_a_template_with_its_code_status_and_namespace() {
    let f = findings(
        &[
            case("free_text", "inferred", "r", "s1"),
            case("wrong_code", "inferred", "r", "s2"),
            case("wrong_ns", "inferred", "r", "s3"),
            case("wrong_status", "inferred", "r", "s4"),
            case("right_ns", "inferred", "r", "s5"),
        ],
        &[
            (
                "free_text",
                error_snap(
                    "400 Bad Request",
                    STS,
                    "ValidationError",
                    "Request ARN is made up",
                ),
            ),
            (
                "wrong_code",
                error_snap(
                    "400 Bad Request",
                    STS,
                    "ExpiredTokenException",
                    "The security token included in the request is expired",
                ),
            ),
            (
                "wrong_ns",
                error_snap(
                    "400 Bad Request",
                    STS,
                    "InvalidAction",
                    "Could not find operation AssumeRole for version NO_VERSION_SPECIFIED",
                ),
            ),
            (
                "wrong_status",
                error_snap("403 Forbidden", STS, "ValidationError", "x is invalid"),
            ),
            (
                "right_ns",
                error_snap(
                    "400 Bad Request",
                    FAULT,
                    "InvalidAction",
                    "Could not find operation AssumeRole for version 2011-06-16",
                ),
            ),
        ],
    );
    let of = |id: &str| -> Vec<&str> {
        f.iter()
            .filter(|x| x.case == format!("sts::AssumeRole::{id}"))
            .map(|x| x.message.as_str())
            .collect()
    };
    assert!(
        of("free_text")[0].contains("follows no template: Request ARN is made up"),
        "{f:#?}"
    );
    assert!(of("wrong_code")[0].contains("expired-session-token's, whose code is ExpiredToken, but the answer says ExpiredTokenException"), "{f:#?}");
    assert!(
        of("wrong_ns")[0].contains(&format!("namespace {FAULT}, the snapshot's in {STS}")),
        "{f:#?}"
    );
    assert!(
        of("wrong_status")[0].contains("invalid-arn answers HTTP 400, the snapshot says 403"),
        "{f:#?}"
    );
    assert_eq!(of("right_ns"), Vec::<&str>::new());
}

#[test]
fn alike_requests_expecting_different_answers_contradict() {
    // Both send a one-character session name: the same rule of the same member.
    let f = findings(
        &[
            case("short_a", "inferred", "r", "a"),
            case("short_b", "inferred", "r", "b"),
        ],
        &[
            (
                "short_a",
                error_snap(
                    "400 Bad Request",
                    STS,
                    "ValidationError",
                    "1 validation error detected: Value 'a' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2",
                ),
            ),
            (
                "short_b",
                error_snap(
                    "403 Forbidden",
                    STS,
                    "AccessDenied",
                    "Not authorized to perform sts:AssumeRole",
                ),
            ),
        ],
    );
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].case, "sts::AssumeRole::short_b");
    assert!(
        f[0].message.contains("RoleSessionName length 1 (under the minimum): this case expects AccessDenied in not-authorized, but short_a expects ValidationError in the validation format"),
        "{}",
        f[0].message
    );
}

#[test]
fn one_code_is_not_spelled_two_ways_unless_declared_distinct() {
    let f = findings(
        &[
            case("plain", "inferred", "r", "s1"),
            case("suffixed", "inferred", "r", "s2"),
            case("expired", "inferred", "r", "s3"),
            case("expired_exception", "inferred", "r", "s4"),
        ],
        &[
            (
                "plain",
                error_snap(
                    "400 Bad Request",
                    STS,
                    "MalformedPolicyDocument",
                    "Syntax errors in policy.",
                ),
            ),
            (
                "suffixed",
                error_snap(
                    "400 Bad Request",
                    STS,
                    "MalformedPolicyDocumentException",
                    "Syntax errors in policy.",
                ),
            ),
            (
                "expired",
                error_snap(
                    "400 Bad Request",
                    STS,
                    "ExpiredToken",
                    "The security token included in the request is expired",
                ),
            ),
            (
                "expired_exception",
                error_snap(
                    "400 Bad Request",
                    STS,
                    "ExpiredTokenException",
                    "The provided context assertion has expired.",
                ),
            ),
        ],
    );
    let spelled: Vec<_> = f.iter().filter(|x| x.message.contains("spelled")).collect();
    assert_eq!(spelled.len(), 1, "{f:#?}");
    assert!(spelled[0].message.contains(
        "`MalformedPolicyDocumentException` here and `MalformedPolicyDocument` elsewhere"
    ));
}

#[test]
fn a_snapshot_holding_a_result_says_its_order_is_only_documented() {
    let yaml = format!("cases:\n{}", case("ok", "documented", "seeds/000", "s1"));
    let (_dir, root) = common::project(&[("scenarios/sts/AssumeRole/a.yaml", &yaml)]);
    let suite = Suite::load(&Layout::at(&root)).expect("the project loads");
    let case = &suite.cases[0];
    let result = "=== step 1: AssumeRole\nHTTP 200 OK\n<AssumeRoleResponse>\n  <AssumeRoleResult/>\n</AssumeRoleResponse>";
    let d = suite.snapshots.description(case, result);
    assert!(d.ends_with("element order of results: documented (the API reference's XML examples (seeds/000 to 004); SDKs read results by name), not recorded"), "{d}");
    let error = error_snap("400 Bad Request", STS, "ValidationError", "x is invalid");
    assert!(!suite.snapshots.description(case, &error).contains("order"));
}

#[test]
fn stale_headers_are_found_and_rewritten_without_touching_contents() {
    let long = "s".repeat(65);
    let cases = [
        case("moved", "inferred", "r", &long),
        case("aws", "recorded", "[R:localstack-sts x]", &long),
    ];
    let yaml = format!("cases:\n{}", cases.concat());
    let body = error_snap("400 Bad Request", STS, "ValidationError", &too_long(&long));
    let aws = body.replace(
        "description: x",
        "description: \"limit aws, provenance: recorded against https://sts.amazonaws.com (us-east-1)\"",
    );
    let (_dir, root) = common::project(&[
        ("scenarios/sts/AssumeRole/a.yaml", &yaml),
        ("snapshots/sts/AssumeRole/moved.snap", &body),
        ("snapshots/sts/AssumeRole/aws.snap", &aws),
    ]);
    let suite = Suite::load(&Layout::at(&root)).unwrap();
    let stale = suite.snapshots.stale_headers(&suite.cases);
    assert_eq!(stale.len(), 1, "a recording's header is its own");
    assert_eq!(stale[0].0.id, "moved");
    assert_eq!(
        stale[0].1,
        "limit moved, provenance: inferred, scenario: scenarios/sts/AssumeRole/a.yaml:2, source: r"
    );
    let before = suite.snapshots.expected(stale[0].0).unwrap().to_owned();
    suite
        .snapshots
        .rewrite_header(stale[0].0, &stale[0].1)
        .unwrap();
    let again = Suite::load(&Layout::at(&root)).unwrap();
    assert!(again.snapshots.stale_headers(&again.cases).is_empty());
    assert_eq!(again.snapshots.expected(&again.cases[1]).unwrap(), before);

    // A recording's header written in another form than insta's keeps its words and takes
    // insta's form, so that `cargo insta accept` would leave it as it is.
    let path = root.join("snapshots/sts/AssumeRole/aws.snap");
    let quoted = std::fs::read_to_string(&path)
        .unwrap()
        .replace("source: x\n", "source: \"x\"\n");
    std::fs::write(&path, &quoted).unwrap();
    let third = Suite::load(&Layout::at(&root)).unwrap();
    let stale = third.snapshots.stale_headers(&third.cases);
    assert_eq!(stale.len(), 1);
    assert_eq!(
        stale[0].1,
        "limit aws, provenance: recorded against https://sts.amazonaws.com (us-east-1)"
    );
}
