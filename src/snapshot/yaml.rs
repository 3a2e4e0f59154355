//! Header values as insta writes them, so that `cargo insta accept` of a `.snap.new` leaves
//! the header byte for byte: a plain scalar unless YAML would read it as something else or it
//! holds a character that needs escaping, else a double-quoted one with JSON's escapes. The
//! rule is insta's emitter's (insta 1.x); `tests/insta_form.rs` writes every corpus snapshot
//! through insta itself and compares.

use std::fmt::Write as _;

/// `s` as a header value.
pub fn scalar(s: &str) -> String {
    if needs_quotes(s) {
        quoted(s)
    } else {
        s.to_owned()
    }
}

/// Whether insta quotes `s`: it is empty, has outer spaces, starts like a YAML indicator,
/// holds a flow or comment character, a quote, a backslash or a control character, or reads
/// as a boolean, null, or number.
pub fn needs_quotes(s: &str) -> bool {
    const WORDS: [&str; 22] = [
        "yes", "Yes", "YES", "no", "No", "NO", "True", "TRUE", "true", "False", "FALSE", "false",
        "on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL", "~",
    ];
    s.is_empty()
        || s.starts_with(' ')
        || s.ends_with(' ')
        || s.starts_with(['&', '*', '?', '|', '-', '<', '>', '=', '!', '%', '@'])
        || s.contains(|c: char| {
            matches!(
                c,
                ':' | '{' | '}' | '[' | ']' | ',' | '#' | '`' | '"' | '\'' | '\\'
                    | '\0'..='\x06' | '\t' | '\n' | '\r' | '\x0e'..='\x1a' | '\x1c'..='\x1f'
            )
        })
        || WORDS.contains(&s)
        || s.starts_with('.')
        || s.starts_with("0x")
        || s.parse::<i64>().is_ok()
        || s.parse::<f64>().is_ok()
}

/// A double-quoted scalar with the escapes insta writes, which JSON reads the same.
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\x08' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\x0c' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            '\0'..='\x1f' | '\x7f' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_unless_yaml_would_read_it_otherwise() {
        assert_eq!(
            scalar("scenarios/sts/AssumeRole/limits.yaml"),
            "scenarios/sts/AssumeRole/limits.yaml"
        );
        assert_eq!(
            scalar("limit x, provenance: documented"),
            "\"limit x, provenance: documented\""
        );
        assert_eq!(scalar("true"), "\"true\"");
        assert_eq!(scalar("12"), "\"12\"");
        assert_eq!(scalar("-x"), "\"-x\"");
        assert_eq!(scalar(""), "\"\"");
        assert_eq!(scalar("say \"hi\"\n"), "\"say \\\"hi\\\"\\n\"");
        assert_eq!(scalar("é ok"), "é ok");
    }
}
