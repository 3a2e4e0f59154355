//! The scrubber against every spelling an endpoint can give a secret back in.

use super::*;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};

const SECRET: &str = "CANARY/secret+value=";

fn secrets() -> Secrets {
    let s = Secrets::new();
    s.add(SECRET);
    s
}

#[test]
fn raw_and_encoded_forms_are_masked() {
    let s = secrets();
    let text = "a CANARY/secret+value= b CANARY%2Fsecret%2Bvalue%3D c";
    assert_eq!(s.scrub(text), "a [redacted-secret] b [redacted-secret] c");
    assert!(s.leaks_into(text));
    assert!(!s.leaks_into(&s.scrub(text)));
    s.add("short");
    assert_eq!(s.scrub("short"), "short");
}

#[test]
fn percent_encoding_in_any_case_and_any_mixture() {
    let s = secrets();
    for form in [
        "CANARY%2fsecret%2bvalue%3d",
        "CANARY%2Fsecret%2bvalue%3D",
        // Every byte encoded, as some clients do.
        "%43%41%4e%41%52%59%2F%73ecret+value%3d",
        "CANARY/secret%2Bvalue=",
    ] {
        assert_eq!(
            s.scrub(&format!("<{form}>")),
            "<[redacted-secret]>",
            "{form}"
        );
    }
}

#[test]
fn form_encoding_turns_spaces_into_plus() {
    let s = Secrets::new();
    s.add("two words/and+more=");
    let form: String = form_urlencoded::byte_serialize(b"two words/and+more=").collect();
    assert_eq!(form, "two+words%2Fand%2Bmore%3D");
    assert_eq!(s.scrub(&format!("x={form}&y=1")), "x=[redacted-secret]&y=1");
    // Without a space in any secret, `+` stays a plus.
    assert_eq!(
        secrets().scrub("CANARY/secret value="),
        "CANARY/secret value="
    );
}

#[test]
fn xml_and_json_escapes_and_cdata() {
    let s = Secrets::new();
    s.add("tok&en<1>/+=\"'");
    for form in [
        "tok&amp;en&lt;1&gt;/+=&quot;&apos;",
        "tok&#38;en&#60;1&#62;&#47;&#43;&#61;&#34;&#39;",
        "tok&#x26;en&#x3C;1&#x3E;&#x2F;&#x2B;&#x3D;&#x22;&#x27;",
        "tok&#x26;en&#x3c;1&#x3e;&#x2f;&#x2b;&#x3d;&#x22;&#x27;",
        "tok&amp;en&#x3c;1&gt;%2F&#43;=&quot;'",
        "tok\\u0026en\\u003c1\\u003e\\/+=\\\"'",
    ] {
        assert_eq!(
            s.scrub(&format!("<a>{form}</a>")),
            "<a>[redacted-secret]</a>",
            "{form}"
        );
    }
    let s = secrets();
    assert_eq!(
        s.scrub("<a><![CDATA[CANARY/secret+value=]]></a>"),
        "<a><![CDATA[[redacted-secret]]]></a>"
    );
}

#[test]
fn base64_whole_and_embedded_at_every_alignment() {
    let s = secrets();
    for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
        let whole = engine.encode(SECRET);
        assert_eq!(s.scrub(&format!("t={whole};")), "t=[redacted-secret];");
        for lead in 0..3 {
            let mut blob = b"prefix!"[..lead + 4].to_vec();
            blob.extend_from_slice(SECRET.as_bytes());
            blob.extend_from_slice(b"suffix?");
            let enc = engine.encode(&blob);
            let out = s.scrub(&enc);
            // Masked: every group of three bytes that is the secret's alone; what is
            // left are the groups its first and last bytes share with their neighbours.
            let masked = enc.len() + MASK.len() - out.len();
            assert!(
                masked >= (SECRET.len() - 2) / 3 * 4,
                "offset {lead}: {enc} -> {out}"
            );
        }
    }
}

#[test]
fn overlapping_secrets_are_masked_as_one_span_and_text_stays_utf8() {
    let s = Secrets::new();
    s.add("abcdefgh12");
    s.add("gh12345678");
    assert_eq!(s.scrub("é abcdefgh12345678 é"), "é [redacted-secret] é");
    s.add("ünïcödé-sécret");
    assert_eq!(
        s.scrub("x %C3%BCn%C3%AFc%C3%B6d%C3%A9-s&#233;cret y"),
        "x [redacted-secret] y"
    );
}

#[test]
fn many_secrets_are_all_found_whatever_order_they_came_in() {
    let s = Secrets::new();
    // Enough that the bit set in front of the index grows several times.
    let all: Vec<String> = (0..3000)
        .map(|i| format!("secret-number-{i:04}/x"))
        .collect();
    for x in &all {
        s.add(x);
    }
    s.add(&all[3]);
    let text = all.join(" ");
    let out = s.scrub(&text);
    assert_eq!(out, vec![MASK; 3000].join(" "));
    assert!(!s.leaks_into("secret-number-3000/x"));
    // Sharing its first eight bytes and its length with a secret does not make a text one.
    assert!(!s.leaks_into("secret-number-0100/y"));
}

#[test]
fn a_secret_whose_view_is_shorter_than_an_anchor_is_still_found() {
    let s = Secrets::new();
    s.add("%41%42%43%44");
    assert_eq!(s.scrub("x ABCD y"), format!("x {MASK} y"));
    assert_eq!(s.scrub("x %41%42%43%44 y"), format!("x {MASK} y"));
    assert_eq!(s.scrub("x ABC y"), "x ABC y");
}

#[test]
fn stray_escapes_decode_nothing_and_break_nothing() {
    let s = secrets();
    for text in [
        "%",
        "%G1",
        "&",
        "&#;",
        "&#x110000;",
        "&#99999999999;",
        "\\",
        "\\u12",
        "a&b;c",
    ] {
        assert_eq!(s.scrub(text), text);
    }
}

#[test]
fn a_secret_met_again_is_filed_once_and_a_near_twin_is_filed_too() {
    let s = Secrets::new();
    s.add(SECRET);
    let forms = s.inner.read().unwrap().index.len();
    s.add(SECRET);
    assert_eq!(s.inner.read().unwrap().index.len(), forms);
    // Same length, same first bytes, same base64 groups but the last: still a new secret.
    let twin = "CANARY/secret+value!";
    s.add(twin);
    assert!(s.inner.read().unwrap().index.len() > forms);
    assert_eq!(
        s.scrub(&format!("{twin} {SECRET}")),
        format!("{MASK} {MASK}")
    );
    let enc = STANDARD.encode(twin);
    assert_eq!(s.scrub(&enc), MASK);
}

#[test]
fn forms_that_start_alike_are_each_masked_whole() {
    // Padded, unpadded and the whole groups of a blob start with the same characters and
    // share an anchor; each must still be masked to its own end.
    let s = Secrets::new();
    s.add("0123456789abcdefg");
    let padded = STANDARD.encode("0123456789abcdefg");
    assert!(padded.ends_with('='));
    for text in [padded.clone(), padded.trim_end_matches('=').to_owned()] {
        assert_eq!(s.scrub(&format!("<{text}>")), format!("<{MASK}>"), "{text}");
    }
    let groups = &padded[..20];
    assert_eq!(s.scrub(&format!("<{groups}>")), format!("<{MASK}>"));
    // Fewer characters than any form is not a secret.
    assert_eq!(s.scrub(&padded[..12]), padded[..12]);
}

#[test]
fn a_secret_no_longer_among_the_recent_is_still_known_and_still_masked() {
    let s = Secrets::new();
    let all: Vec<String> = (0..3 * RECENT)
        .map(|i| format!("rotating-key-{i:03}"))
        .collect();
    for x in &all {
        s.add(x);
    }
    let forms = s.inner.read().unwrap().index.len();
    s.add(&all[0]);
    assert_eq!(s.inner.read().unwrap().index.len(), forms);
    assert_eq!(s.scrub(&all.join(",")), vec![MASK; all.len()].join(","));
    assert_eq!(s.scrub(&STANDARD.encode(&all[0])), MASK);
}
