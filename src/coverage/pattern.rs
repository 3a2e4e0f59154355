//! Model patterns as AWS applies them, compiled once per process.

use std::sync::{Arc, Mutex};

use regex::Regex;

/// A model pattern as AWS applies it: the whole value must match, and `\w`/`\d` are ASCII.
pub fn pattern_matches(pattern: &str, value: &str) -> bool {
    // A pattern we cannot read proves nothing either way.
    with_pattern(pattern, |re| re.is_none_or(|re| re.is_match(value)))
}

pub fn compile_pattern(pattern: &str) -> Option<Regex> {
    with_pattern(pattern, |re| re.cloned())
}

/// Runs `f` with the pattern compiled once per process. A model has a few dozen patterns and
/// every case is checked against them: compiling each once keeps `conform check` linear in
/// the cases, and matching through the one stored regex reuses its search caches, which a
/// clone would build again. The lock is held only to find the regex, never while matching:
/// `conform check` matches on two threads at once.
fn with_pattern<T>(pattern: &str, f: impl FnOnce(Option<&Regex>) -> T) -> T {
    type Compiled = std::collections::HashMap<String, Option<Arc<Regex>>>;
    static COMPILED: std::sync::LazyLock<Mutex<Compiled>> =
        std::sync::LazyLock::new(Default::default);
    let found = {
        let compiled = COMPILED.lock().unwrap_or_else(|e| e.into_inner());
        compiled.get(pattern).cloned()
    };
    let re = match found {
        Some(re) => re,
        None => {
            let re = compile_uncached(pattern).map(Arc::new);
            let mut compiled = COMPILED.lock().unwrap_or_else(|e| e.into_inner());
            compiled.entry(pattern.to_owned()).or_insert(re).clone()
        }
    };
    f(re.as_deref())
}

fn compile_uncached(pattern: &str) -> Option<Regex> {
    Regex::new(&format!("^(?:{})$", as_regex(pattern))).ok()
}

/// A model pattern in the regex crate's syntax, unanchored: `\w` and `\d` spelled as the
/// ASCII classes AWS means, Java's `\uXXXX` escapes as `\x{XXXX}`.
pub fn as_regex(pattern: &str) -> String {
    let mut p = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars().peekable();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '[' => in_class = true,
            ']' => in_class = false,
            _ => {}
        }
        if c != '\\' {
            p.push(c);
            continue;
        }
        let ascii = |class: &str| {
            if in_class {
                class.to_owned()
            } else {
                format!("[{class}]")
            }
        };
        match chars.next() {
            Some('w') => p.push_str(&ascii("0-9A-Za-z_")),
            Some('d') => p.push_str(&ascii("0-9")),
            Some('u') => {
                // Java-style escapes with 4 to 6 hex digits (`\u10FFFF`).
                let mut hex = String::new();
                while hex.len() < 6 && chars.peek().is_some_and(|c| c.is_ascii_hexdigit()) {
                    hex.push(chars.next().unwrap_or('0'));
                }
                p.push_str(&format!("\\x{{{hex}}}"));
            }
            Some(other) => {
                p.push('\\');
                p.push(other);
            }
            None => p.push('\\'),
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_patterns_are_full_matches_with_ascii_word_characters() {
        let p = r"[\w+=,.@-]*";
        assert!(pattern_matches(p, "Session1"));
        assert!(!pattern_matches(p, "Session1:2"));
        assert!(!pattern_matches(p, "sessioné"), "\\w is ASCII only");
        assert!(pattern_matches(r"[\d]*", "123456"));
        assert!(!pattern_matches(r"[\d]*", "12345a"));
        let any =
            r"[\u0009\u000A\u000D\u0020-\u007E\u0085\u00A0-\uD7FF\uE000-\uFFFD\u10000-\u10FFFF]+";
        assert!(pattern_matches(any, "arn:aws:iam::123456789012:role/demo"));
        assert!(pattern_matches(any, "😀"));
        assert!(!pattern_matches(any, "a\u{1}b"));
        let tags = r"[\p{L}\p{Z}\p{N}_.:/=+\-@]+";
        assert!(pattern_matches(tags, "Cost-Center é 1"));
        assert!(!pattern_matches(tags, "a*b"));
        assert!(!pattern_matches(r"\w+", "é") && pattern_matches(r"\w+", "a_1"));
    }
}
