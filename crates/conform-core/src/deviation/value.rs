//! Values as deviations hold them: long ones shortened with a hash, whether a run's value
//! looks generated, and the placeholders a snapshot marks run-dependent parts with.

use std::sync::LazyLock;

use regex::Regex;

use super::{Deviation, Kind};

/// Values longer than this are kept as their start, their length and a hash, so that a
/// baseline stays readable and still tells one long value from another.
const LONG: usize = 160;

/// The value as a deviation holds it: itself, or when long its start, its length in
/// characters and a 64-bit FNV-1a hash of the whole.
pub fn shorten(value: &str) -> String {
    let n = value.chars().count();
    if n <= LONG {
        return value.to_owned();
    }
    let start: String = value.chars().take(60).collect();
    format!("{start}… ({n} chars, fnv {:016x})", fnv1a(value.as_bytes()))
}

/// 64-bit FNV-1a: stable across builds and platforms (shard assignment, long values).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Whether a run's value is likely the same in the next run: not when it holds what looks
/// generated (a long mix of letters and digits such as a request id, a time stamp, epoch
/// seconds). A baseline keeps only such stable values, so the gate does not flap.
pub fn looks_stable(value: &str) -> bool {
    static GENERATED: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"(?P<run>[A-Za-z0-9]{20,})",
            r"|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
            r"|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}",
            r"|\b\d{9,}\b",
        ))
        .expect("a valid pattern")
    });
    !GENERATED.captures_iter(value).any(|c| match c.name("run") {
        // A long run of letters and digits is generated when it mixes them (a request id),
        // not when it is a word (`AmazonS3ReadOnlyAccess`, `AKIAIOSFODNN7EXAMPLE`).
        Some(run) => {
            let t = run.as_str();
            let digits = t.chars().filter(char::is_ascii_digit).count();
            digits >= 2 && t.len() - digits >= 2
        }
        None => true,
    })
}

/// Whether a baseline may keep a deviation's actual value: it looks stable, and for a value
/// where the snapshot marks run-dependent parts (placeholders), the run's value is redacted
/// there too. A literal where the snapshot has `[request-id]` is whatever the target
/// generated this time; an error message is the target's own text, placeholders or not.
pub fn actual_is_stable(d: &Deviation) -> bool {
    let Some(actual) = d.actual.as_deref() else {
        return true;
    };
    let value = matches!(d.kind, Kind::ValueShape | Kind::ValueText);
    let marked = match (&d.expected, value) {
        (Some(e), true) => placeholders(e).len(),
        _ => 0,
    };
    looks_stable(actual) && placeholders(actual).len() >= marked
}

/// The placeholders the redaction rules put in a text (`[name]`, `[name:qualifier...]`), as
/// (start, end, name, qualifiers) with byte offsets.
fn placeholders(text: &str) -> Vec<(usize, usize, &str, Vec<&str>)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(open) = text[from..].find('[').map(|i| from + i) {
        let Some(close) = text[open..].find(']').map(|i| open + i) else {
            break;
        };
        let inner = &text[open + 1..close];
        let mut parts = inner.split(':');
        let name = parts.next().unwrap_or("");
        let quals: Vec<&str> = parts.collect();
        let name_ok = name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        let quals_ok = quals
            .iter()
            .all(|q| !q.is_empty() && !q.contains(char::is_whitespace));
        if name_ok && quals_ok {
            out.push((open, close + 1, name, quals));
            from = close + 1;
        } else {
            from = open + 1;
        }
    }
    out
}

/// The text with each placeholder rewritten by `f`.
fn rewrite(text: &str, f: impl Fn(&str, &[&str]) -> String) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (start, end, name, quals) in placeholders(text) {
        out.push_str(&text[last..start]);
        out.push_str(&f(name, &quals));
        last = end;
    }
    out.push_str(&text[last..]);
    out
}

pub(super) fn text_kind(path: &str, expected: &str, actual: &str) -> Kind {
    let mut segments = path.rsplit('/');
    let (last, parent) = (segments.next().unwrap_or(""), segments.next().unwrap_or(""));
    if parent == "Error" {
        match last {
            "Type" => return Kind::ErrorType,
            "Code" => return Kind::ErrorCode,
            "Message" => return Kind::ErrorMessage,
            _ => {}
        }
    }
    let marks = placeholders(expected);
    if marks.is_empty() {
        return Kind::ValueText;
    }
    // Placeholders reduced to their names, and with their numbers dropped: equal names with
    // other qualifiers are a shape; equal all but the numbers an identity (value).
    let names = |t: &str| rewrite(t, |n, _| format!("[{n}]"));
    let unnumbered = |t: &str| {
        rewrite(t, |n, quals| {
            let keep = match quals.last() {
                Some(l) if l.chars().all(|c| c.is_ascii_digit()) => &quals[..quals.len() - 1],
                _ => quals,
            };
            let mut s = format!("[{n}");
            for q in keep {
                s.push(':');
                s.push_str(q);
            }
            s.push(']');
            s
        })
    };
    let whole = marks.len() == 1 && marks[0].0 == 0 && marks[0].1 == expected.len();
    if unnumbered(expected) == unnumbered(actual) {
        Kind::ValueText
    } else if whole || names(expected) == names(actual) {
        Kind::ValueShape
    } else {
        Kind::ValueText
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{ERR, OK, dev, one};
    use super::*;

    #[test]
    fn values_by_shape_and_by_text() {
        let req = "AssumeRoleResponse/ResponseMetadata/RequestId";
        assert_eq!(
            one(
                OK,
                &OK.replace(
                    "[request-id]",
                    "76t9sRO1M2onaGPQnM0r9Q8luH9BgMtma0tDCKGrd7Imks"
                )
            ),
            dev(
                1,
                Kind::ValueShape,
                req,
                Some("[request-id]"),
                Some("76t9sRO1M2onaGPQnM0r9Q8luH9BgMtma0tDCKGrd7Imks")
            )
        );
        assert_eq!(
            one(OK, &OK.replace("+3600s]", "+3600s:subsecond]")).kind,
            Kind::ValueShape
        );
        assert_eq!(
            one(
                OK,
                &OK.replace("[access-key-id:ASIA:1]", "[access-key-id:AKIA:1]")
            )
            .kind,
            Kind::ValueShape
        );
        // Another number: the same role id is no longer the same (an identity, a value).
        assert_eq!(
            one(OK, &OK.replace("[role-id:1]:s", "[role-id:2]:s")),
            dev(
                1,
                Kind::ValueText,
                "AssumeRoleResponse/AssumeRoleResult/AssumedRoleUser/AssumedRoleId",
                Some("[role-id:1]:s"),
                Some("[role-id:2]:s")
            )
        );
        assert_eq!(
            one(
                OK,
                &OK.replace("assumed-role/[role-name]/s", "assumed-role/other/s")
            )
            .kind,
            Kind::ValueText
        );
        // Attributes other than namespaces are values.
        let with_attr = ERR.replace("<Code>", "<Code lang=\"en\">");
        assert_eq!(
            one(ERR, &with_attr),
            dev(
                1,
                Kind::UnexpectedElement,
                "ErrorResponse/Error/Code/@lang",
                None,
                Some("en")
            )
        );
        assert_eq!(
            one(&with_attr, &with_attr.replace("\"en\"", "\"fr\"")).kind,
            Kind::ValueText
        );
    }

    #[test]
    fn long_values_are_shortened_with_a_hash_and_generated_ones_are_not_stable() {
        let long = "x".repeat(500);
        let s = shorten(&long);
        assert!(
            s.starts_with(&"x".repeat(60)) && s.contains("(500 chars, fnv "),
            "{s}"
        );
        assert_ne!(s, shorten(&format!("{}y", "x".repeat(499))));
        assert_eq!(shorten("short"), "short");
        for generated in [
            "76t9sRO1M2onaGPQnM0r9Q8luH9BgMtma0tDCKGrd7ImksC84w25",
            "c6104cbe-af31-11e0-8154-cbc7ccf896c7",
            "expired at 2026-11-30T06:34:26Z",
            "token expired at date/time 1764484466",
        ] {
            assert!(!looks_stable(generated), "{generated}");
        }
        for stable in [
            "[request-id]",
            "ARO123EXAMPLE123:w",
            "1 validation error detected: Value 'w' at 'roleSessionName'",
            "AssumeRoleResponse/AssumeRoleResult/Credentials",
            "[expiration:+43200s:subsecond]",
        ] {
            assert!(looks_stable(stable), "{stable}");
        }
    }

    #[test]
    fn a_literal_where_the_snapshot_has_a_placeholder_is_never_kept() {
        let stable = |kind: Kind, e: Option<&str>, a: &str| {
            actual_is_stable(&dev(1, kind, "R/A", e, Some(a)))
        };
        // moto's request ids: random letters and digits, sometimes without a single digit.
        let rid = "WxrsxkIjEccBYQsdVrtgeIhIGatgHtQVurttcXWEsIBZCmnITuhT";
        assert!(!stable(Kind::ValueShape, Some("[request-id]"), rid));
        assert!(!stable(
            Kind::ValueText,
            Some("[role-id:1]:wi"),
            "ARO123EXAMPLE123:wi"
        ));
        assert!(stable(
            Kind::ValueShape,
            Some("[expiration:+3600s]"),
            "[expiration:+3600s:subsecond]"
        ));
        assert!(stable(
            Kind::ValueText,
            Some("[role-id:1]:s"),
            "[role-id:2]:s"
        ));
        assert!(stable(
            Kind::ErrorCode,
            Some("ValidationError"),
            "InvalidInput"
        ));
        // A message is the target's text, whatever placeholders the snapshot's has.
        assert!(stable(
            Kind::ErrorMessage,
            Some("account:[account-id]."),
            "Invalid SAML assertion"
        ));
        assert!(stable(Kind::UnexpectedElement, None, "6"));
    }
}
