//! A filtered run parses only the cases it may select: in a scenario file of the plain shape
//! (`cases:` then a block list, no anchors, aliases, tags or other documents), the lines
//! of every case that cannot be selected are blanked before the file is parsed. Lines keep
//! their numbers and columns, so errors and places read as in the whole file, and the
//! parser's cost follows the selected cases instead of the file. Anything not of that
//! shape is parsed whole. A service's facts file is narrowed the same way, to the parts a
//! run reads (`without_sections`).

use super::selection::Selection;

/// The text to parse for `selection`: `None` when it is the whole file.
pub(super) fn narrowed(
    selection: &Selection,
    service: &str,
    operation: &str,
    text: &str,
) -> Option<String> {
    if selection.is_all() || text.contains('\t') || references(text) {
        return None;
    }
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let ignorable = |l: &str| {
        let t = &l[lead(l)..];
        t.is_empty() || t.starts_with('#')
    };
    // `cases:` alone on its line, at the left margin, with only comments before it.
    let at = lines.iter().position(|l| !ignorable(l))?;
    let head = lines[at].trim_end();
    if head != "cases:" && !head.strip_prefix("cases:")?.trim_start().starts_with('#') {
        return None;
    }
    // Each item starts at the indentation of the first one; every other line is deeper.
    let first = lines[at + 1..].iter().find(|l| !ignorable(l))?;
    let indent = lead(first);
    let item = |l: &str| {
        l.get(..indent).is_some_and(|lead| lead.trim().is_empty()) && l[indent..].starts_with("- ")
    };
    let mut starts = Vec::new();
    for (i, l) in lines.iter().enumerate().skip(at + 1) {
        if ignorable(l) {
            continue;
        }
        let depth = lead(l);
        if item(l) {
            starts.push(i);
        } else if depth <= indent || l[depth..].starts_with("---") || &l[depth..] == "..." {
            return None;
        }
    }
    // Where each line starts in the text: a case's lines are one slice of it.
    let mut offsets = Vec::with_capacity(lines.len() + 1);
    let mut offset = 0;
    for l in &lines {
        offsets.push(offset);
        offset += l.len();
    }
    offsets.push(offset);
    let mut blank = vec![false; lines.len()];
    let mut kept = 0;
    for (k, &start) in starts.iter().enumerate() {
        let end = starts.get(k + 1).copied().unwrap_or(lines.len());
        if selection.may_hold(service, operation, &text[offsets[start]..offsets[end]]) {
            kept += 1;
            continue;
        }
        blank[start..end].fill(true);
    }
    if kept == starts.len() {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    for (i, line) in lines.iter().enumerate() {
        if i == at && kept == 0 {
            // No case left: an empty list keeps the file valid.
            out.push_str("cases: []");
        } else if !blank[i] {
            out.push_str(line);
            continue;
        }
        if line.ends_with('\n') {
            out.push('\n');
        }
    }
    Some(out)
}

/// The text with the top-level sections named in `drop` blanked, line numbers kept: `None`
/// when none is there or the text is not a plain block mapping (every line at the left
/// margin a `key:` or a `- ` item of the key before it, no document markers, directives,
/// tabs, anchors, aliases or tags), which is then parsed whole.
pub(super) fn without_sections(text: &str, drop: &[&str]) -> Option<String> {
    if text.contains('\t') || references(text) {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut dropping = false;
    let mut dropped = false;
    for line in text.split_inclusive('\n') {
        let starts_key = !line.starts_with([' ', '#', '-', '\n', '\r']) && !line.trim().is_empty();
        if starts_key {
            let key = line.split_once(':').map(|(k, _)| k)?;
            if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return None;
            }
            dropping = drop.contains(&key);
            dropped |= dropping;
        } else if line.starts_with("---") || line.starts_with("...") {
            return None;
        }
        if dropping {
            if line.ends_with('\n') {
                out.push('\n');
            }
        } else {
            out.push_str(line);
        }
    }
    dropped.then_some(out)
}

/// How many bytes of leading whitespace a line has, as `trim_start` counts them (spaces
/// almost always: counted bytewise, which was a fifth of narrowing).
fn lead(line: &str) -> usize {
    let ascii = line
        .bytes()
        .take_while(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c))
        .count();
    if line.as_bytes().get(ascii).is_some_and(|b| !b.is_ascii()) {
        line.len() - line.trim_start().len()
    } else {
        ascii
    }
}

/// Whether the text may use what ties one case to another or needs the whole document: an
/// anchor, alias or tag (`&`, `*`, `!` starting a token outside quotes, comments and block
/// scalars), a directive (`%` at a line's start), or a quoted scalar over several lines. A block scalar's lines (after `|` or
/// `>`) are raw text and skipped: those indented deeper than the key that holds it.
fn references(text: &str) -> bool {
    let mut quote: Option<u8> = None;
    let mut block: Option<usize> = None;
    for line in text.lines() {
        let depth = lead(line);
        if let Some(key) = block {
            if line.trim().is_empty() || depth > key {
                continue;
            }
            block = None;
        }
        if quote.is_none() && line.starts_with('%') {
            return true;
        }
        // Most lines hold none of the characters that mean anything below: outside a quote
        // such a line changes nothing, and skipping it halves the cost of a filtered load.
        if quote.is_none()
            && !line
                .bytes()
                .any(|b| matches!(b, b'&' | b'*' | b'!' | b'|' | b'>' | b'\'' | b'"'))
        {
            continue;
        }
        // Where the line's key starts, after its list dashes: a block scalar's lines are
        // deeper than that.
        let key = depth + line[depth..].len() - line[depth..].trim_start_matches(['-', ' ']).len();
        // Whether the next character starts a node (after indentation, `- `, `: `, or a
        // flow bracket or comma): only there do `&`, `*`, `!`, `|`, `>` and quotes mean
        // anything; inside a plain scalar they are text.
        let mut at_node = quote.is_none();
        // By byte (every character that means anything here is ASCII, and no byte of a
        // longer character is one), jumping through quoted text: in long quoted policies,
        // looking at every character was most of narrowing a file.
        let bytes = line.as_bytes();
        let mut prev = b' ';
        let mut i = 0;
        while i < bytes.len() {
            if let Some(q) = quote {
                let rest = &line[i..];
                let next = if q == b'\'' {
                    rest.find('\'')
                } else {
                    rest.find(['"', '\\'])
                };
                let Some(k) = next else { break };
                i += k;
                let c = bytes[i];
                if c == b'\\' {
                    // An escape in double quotes: the character after it is skipped whole.
                    i += line[i + 1..].chars().next().map_or(0, char::len_utf8);
                } else if q == b'\'' && bytes.get(i + 1) == Some(&b'\'') {
                    // `''` is a quote inside single quotes.
                    i += 1;
                } else {
                    quote = None;
                }
                prev = c;
                i += 1;
                continue;
            }
            let c = bytes[i];
            let next = bytes.get(i + 1).copied();
            match c {
                b' ' => at_node |= prev == b':' || (prev == b'-' && at_node),
                b'#' if prev == b' ' => break,
                b'[' | b'{' | b',' => at_node = true,
                b'-' if at_node && matches!(next, Some(b' ') | None) => {}
                b'\'' | b'"' if at_node => {
                    quote = Some(c);
                    at_node = false;
                }
                b'|' | b'>' if at_node => {
                    block = Some(key);
                    break;
                }
                b'&' | b'*' | b'!' if at_node => return true,
                _ => at_node = false,
            }
            prev = c;
            i += 1;
        }
        // A quoted scalar that goes on to the next line could hold what reads like a new
        // case there: such a file is parsed whole.
        if quote.is_some() {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::{Layout, Suite};
    use std::path::Path;

    fn exact(name: &str) -> Selection {
        Selection::new(vec![name.to_owned()], true)
    }

    #[test]
    fn lines_keep_their_numbers_and_other_cases_are_blanked() {
        let text =
            "# head\ncases:\n  - id: a\n    kind: limit\n\n  # note\n  - id: b\n    kind: limit\n";
        let got = narrowed(&exact("sts::Op::b"), "sts", "Op", text).unwrap();
        assert_eq!(got, "# head\ncases:\n\n\n\n\n  - id: b\n    kind: limit\n");
        assert_eq!(got.lines().count(), text.lines().count());
        let none = narrowed(&exact("sts::Op::zz"), "sts", "Op", text).unwrap();
        assert!(none.starts_with("# head\ncases: []\n"), "{none}");
    }

    #[test]
    fn anything_but_the_plain_shape_is_parsed_whole() {
        let s = exact("sts::Op::b");
        for text in [
            "cases:\n  - id: a\n    x: &anchor 1\n  - id: b\n",
            "cases:\n  - id: a\n    x: *anchor\n  - id: b\n",
            "cases:\n  - id: a\n    x: !tag 1\n  - id: b\n",
            "cases:\n  - id: a\n    x: \"one\n  - id: b\"\n  - id: c\n",
            "cases:\n - id: a\né: 1\n - id: b\n",
            "cases:\n  - id: a\n    x: >-\n      it's raw\n    y: &anchor 1\n  - id: b\n",
            "cases: [{id: a}, {id: b}]\n",
            "cases:\n  - id: a\nother: 1\n  - id: b\n",
            "other: 1\ncases:\n  - id: a\n  - id: b\n",
            "cases:\n  - id: a\n---\ncases:\n  - id: b\n",
        ] {
            assert_eq!(narrowed(&s, "sts", "Op", text), None, "{text}");
        }
        assert_eq!(
            narrowed(&Selection::all(), "sts", "Op", "cases:\n  - id: a\n"),
            None
        );
        // In quotes, in a comment or inside a plain scalar they are text.
        let quoted = "cases:\n  - id: a # *x\n    r: '*'\n    p: \"a&c\"\n    q: s3:::c/*\n    d: >-\n      it's *raw* & \"so\n    e: \"\\é\\\" & *\" # é 'x' *y\n    f: 'it''s & *'\n  - id: b\n";
        assert_eq!(
            narrowed(&s, "sts", "Op", quoted).as_deref(),
            Some("cases:\n\n\n\n\n\n\n\n\n  - id: b\n")
        );
        // A quote left open at the end of a line, after an escaped quote, is several lines.
        let open = "cases:\n  - id: a\n    e: \"\\\" &\n  - id: b\"\n  - id: b\n";
        assert_eq!(narrowed(&s, "sts", "Op", open), None);
    }

    #[test]
    fn named_sections_are_blanked_and_the_rest_keeps_its_lines() {
        let text =
            "# head\nnamespace: n\ntemplates:\n  - id: a\n- id: b\n# note\norder:\n  - path: x\n";
        let got = without_sections(text, &["templates"]).unwrap();
        assert_eq!(got, "# head\nnamespace: n\n\n\n\n\norder:\n  - path: x\n");
        assert_eq!(
            without_sections(text, &["validation"]),
            None,
            "nothing to drop"
        );
        for odd in [
            "namespace: n\n---\ntemplates: []\n",
            "namespace: n\n\"templates\": []\n",
            "? templates\n: []\n",
            "namespace: &n x\ntemplates: []\n",
            "templates:\n\t- id: a\n",
            "namespace: n\nplain continued\ntemplates: []\n",
        ] {
            assert_eq!(without_sections(odd, &["templates"]), None, "{odd}");
        }
    }

    /// A one-case run reads the corpus's facts file without its templates: the orders, the
    /// recordings they cite and the namespace read as from the whole file.
    #[test]
    fn the_corpus_facts_read_the_same_without_the_unread_sections() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(root.join("models/sts.facts.yaml")).unwrap();
        let unread = ["validation", "templates", "distinct_codes"];
        let narrowed = without_sections(&text, &unread).expect("the corpus file is plain");
        assert_eq!(narrowed.lines().count(), text.lines().count());
        let path = Path::new("models/sts.facts.yaml");
        let whole = crate::facts::Facts::parse(&text, path, "sts").unwrap();
        let part = crate::facts::Facts::parse(&narrowed, path, "sts").unwrap();
        assert!(part.templates.is_empty() && part.validation.is_none());
        assert!(!whole.templates.is_empty());
        assert_eq!(format!("{:?}", part.order), format!("{:?}", whole.order));
        assert_eq!(part.not_judged(), whole.not_judged());
        assert_eq!(part.order_note(), whole.order_note());
        assert_eq!(part.namespace, whole.namespace);
        assert_eq!(part.recordings.len(), whole.recordings.len());
    }

    /// Each case of the corpus, selected by its exact name, parses from the narrowed text
    /// exactly as from the whole file.
    #[test]
    fn every_corpus_case_reads_the_same_from_the_narrowed_file() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let whole = Suite::load(&Layout::at(root)).unwrap();
        let mut narrowed_files = 0;
        for case in &whole.cases {
            let name = case.test_name();
            let text = std::fs::read_to_string(root.join(&case.file)).unwrap();
            narrowed_files += usize::from(
                narrowed(&exact(&name), &case.service, &case.operation, &text).is_some(),
            );
            let one = Suite::load_selected(&Layout::at(root), exact(&name)).unwrap();
            let got: Vec<_> = one.cases.iter().filter(|c| c.test_name() == name).collect();
            assert_eq!(got.len(), 1, "{name}");
            assert_eq!(format!("{:?}", got[0]), format!("{case:?}"), "{name}");
        }
        assert!(
            narrowed_files > 300,
            "only {narrowed_files} files were narrowed"
        );
    }
}
