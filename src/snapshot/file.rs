//! One stored `.snap` file read: its shape checked (conform's files always have a header
//! naming their source, then a transcript), the header's `description:`, and the contents
//! as insta reads them. Headers conform writes are read here directly; any other header goes
//! through insta's own reader, so a file `cargo insta accept` wrote reads as insta reads it.

use std::path::Path;

use super::SnapshotError;

/// A stored snapshot: what it holds and what its header says of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Stored {
    /// As insta compares it: trailing whitespace and CRLF do not count.
    pub contents: String,
    pub description: String,
    /// Whether the header is written as insta writes one (`cargo insta accept` would leave
    /// it as it is); `conform check` rewrites one that is not.
    pub insta_form: bool,
}

/// Reads and checks the snapshot at `path`.
pub(super) fn read(path: &Path) -> Result<Stored, SnapshotError> {
    let bytes = std::fs::read(path).map_err(|e| SnapshotError::Parse {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    let text = checked(path, &bytes)?;
    match split(text) {
        Some((header, body)) => match description(header) {
            Some((description, insta_form)) => Ok(Stored {
                contents: contents(body),
                description,
                insta_form,
            }),
            None => via_insta(path),
        },
        None => via_insta(path),
    }
}

/// What conform writes, and what insta would otherwise take for an empty snapshot: a
/// `---` metadata header naming its source, then a transcript. A file truncated to nothing
/// or stripped of its header would compare as an empty expectation, so it is refused.
fn checked<'b>(path: &Path, bytes: &'b [u8]) -> Result<&'b str, SnapshotError> {
    let refuse = |message: &str| SnapshotError::Parse {
        path: path.to_owned(),
        message: format!(
            "{message}; restore it from version control, or delete it and run the case to write a new one for review"
        ),
    };
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let before = &bytes[..e.valid_up_to()];
        let line = before.iter().filter(|b| **b == b'\n').count() + 1;
        refuse(&format!("line {line}: not UTF-8"))
    })?;
    if text.trim().is_empty() {
        return Err(refuse("empty (line 1:1)"));
    }
    let mut lines = text.lines();
    if lines.next().map(str::trim_end) != Some("---") {
        return Err(refuse(
            "line 1:1: no `---` header (conform's snapshots start with their source and description)",
        ));
    }
    let header: Vec<&str> = lines
        .by_ref()
        .take_while(|l| l.trim_end() != "---")
        .collect();
    if !header.iter().any(|l| l.starts_with("source:")) {
        return Err(refuse("the header names no `source:`"));
    }
    if lines.all(|l| l.trim().is_empty()) {
        return Err(refuse("no transcript after the header"));
    }
    Ok(text)
}

/// The header's lines and the text after it, split where insta splits them: the first line
/// is `---`, the header ends at the next line that is `---` once trailing space is cut.
fn split(text: &str) -> Option<(&str, &str)> {
    let (first, mut rest) = text.split_once('\n')?;
    if first.trim_end() != "---" {
        return None;
    }
    let header_start = rest;
    loop {
        let (line, after) = rest.split_once('\n').unwrap_or((rest, ""));
        if line.trim_end() == "---" {
            let header = &header_start[..header_start.len() - rest.len()];
            return Some((header, after));
        }
        if after.is_empty() {
            return None;
        }
        rest = after;
    }
}

/// The `description:` of a header written the way conform or insta writes one: each line a
/// known key and a scalar, plain where insta writes it plain, else double-quoted so that it
/// reads the same as JSON and as YAML (no escaped surrogate, which the two read differently;
/// no line folding); and whether the whole header is as insta writes it. None for anything
/// else, which insta's own reader then reads.
fn description(header: &str) -> Option<(String, bool)> {
    const KEYS: [&str; 4] = ["source", "description", "expression", "input_file"];
    let mut seen = [false; KEYS.len()];
    let mut description = String::new();
    let mut insta_form = true;
    for line in header.lines() {
        let (key, raw) = line.split_once(": ")?;
        let k = KEYS.iter().position(|k| *k == key)?;
        if std::mem::replace(&mut seen[k], true) || raw.contains('\r') {
            return None;
        }
        let value: String = if raw.starts_with('"') {
            if escapes_a_surrogate(raw) {
                return None;
            }
            serde_json::from_str(raw).ok()?
        } else if !super::yaml::needs_quotes(raw) {
            raw.to_owned()
        } else {
            return None;
        };
        insta_form &= super::yaml::scalar(&value) == raw;
        if key == "description" {
            description = value;
        }
    }
    Some((description, insta_form))
}

/// Whether a double-quoted value holds `\uD800` to `\uDFFF` (an escaped backslash before a
/// `u` is no escape).
fn escapes_a_surrogate(value: &str) -> bool {
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c == '\\' && chars.next() == Some('u') {
            let hex: String = chars.clone().take(4).collect();
            if u32::from_str_radix(&hex, 16).is_ok_and(|n| (0xD800..=0xDFFF).contains(&n)) {
                return true;
            }
        }
    }
    false
}

/// The text after the header as insta compares it: its lines joined with `\n`, trailing
/// whitespace and CRLF not counting.
fn contents(body: &str) -> String {
    let mut joined = String::with_capacity(body.len());
    for (i, line) in body.lines().enumerate() {
        if i > 0 {
            joined.push('\n');
        }
        joined.push_str(line);
    }
    super::normalize_contents(&joined)
}

/// insta's reader, for headers conform did not write.
fn via_insta(path: &Path) -> Result<Stored, SnapshotError> {
    let snap = insta::Snapshot::from_file(path).map_err(|e| SnapshotError::Parse {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    let contents = snap
        .contents()
        .as_text()
        .map(|t| t.to_string())
        .ok_or_else(|| SnapshotError::Parse {
            path: path.to_owned(),
            message: "a binary snapshot; conform writes text".into(),
        })?;
    let description = snap.metadata().description().unwrap_or_default().to_owned();
    Ok(Stored {
        contents,
        description,
        insta_form: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What insta's reader makes of the file, or its error, for comparison with ours.
    /// What insta's reader makes of the file: its contents and description (whether the
    /// header is in insta's form is ours to say).
    fn insta_reads(path: &Path) -> Result<(String, String), String> {
        via_insta(path)
            .map(|s| (s.contents, s.description))
            .map_err(|e| e.to_string())
    }

    fn we_read(path: &Path) -> Result<(String, String), String> {
        read(path)
            .map(|s| (s.contents, s.description))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn every_snapshot_of_the_corpus_reads_as_insta_reads_it() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots");
        let mut stack = vec![root];
        let mut fast = 0;
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                if path.extension().is_none_or(|e| e != "snap") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                let (header, _) = split(&text).unwrap();
                // Every header of the corpus is one conform wrote, so none needs insta here.
                assert!(description(header).is_some(), "{}", path.display());
                fast += 1;
                assert_eq!(we_read(&path), insta_reads(&path), "{}", path.display());
            }
        }
        assert!(fast > 300, "only {fast} snapshots found");
    }

    #[test]
    fn headers_conform_did_not_write_are_read_by_insta_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            // What conform writes, escapes included.
            "---\nsource: \"a.yaml\"\ndescription: \"say \\\"hi\\\"\\tand\\\\ go\"\n---\nbody  \r\nmore\n\n",
            // What insta writes on `cargo insta accept`: plain scalars.
            "---\nsource: tests/conformance.rs\nexpression: snap\ndescription: plain words\n---\nbody\n",
            // An escape that JSON does not know, an escaped surrogate (insta refuses it, and so
            // do we), and escapes both read alike.
            "---\nsource: \"a\"\ndescription: \"\\x41\"\n---\nbody\n",
            "---\nsource: \"a\"\ndescription: \"\\ud83d\\ude00\"\n---\nbody\n",
            "---\nsource: \"a\"\ndescription: \"\\u00e9 [\\\\u0009]\"\n---\nbody\n",
            // A quoted value folded over two lines, a comment, a number, a second `---`.
            "---\nsource: \"a\"\ndescription: \"one\n  two\"\n---\nbody\n",
            "---\nsource: \"a\" # why\ndescription: \"d\"\n---\nbody\n---\nstill body\n",
            "---\nsource: \"a\"\ndescription: 12\n---\nbody\n",
            "---\nsource: \"a\"\n---\nno description\n",
            "---  \r\nsource: \"a\"\r\ndescription: \"crlf\"\r\n---\r\nbody\r\nline\r\n",
        ];
        for (i, text) in cases.iter().enumerate() {
            let path = dir.path().join(format!("c{i}.snap"));
            std::fs::write(&path, text).unwrap();
            assert_eq!(we_read(&path), insta_reads(&path), "{text:?}");
        }
        // Quoted and plain scalars as insta writes them take the direct path; a header in
        // insta's own form says so.
        let (h, _) = split(cases[0]).unwrap();
        let (d, insta_form) = description(h).unwrap();
        assert_eq!(d, "say \"hi\"\tand\\ go");
        assert!(!insta_form, "insta writes `source: a.yaml` plain");
        let (h, _) = split(cases[1]).unwrap();
        assert_eq!(description(h), Some(("plain words".to_owned(), true)));
        let (h, _) = split(cases[2]).unwrap();
        assert_eq!(description(h), None);
        let (h, _) = split(cases[3]).unwrap();
        assert_eq!(description(h), None);
        let (h, _) = split(cases[4]).unwrap();
        assert_eq!(description(h).map(|d| d.0).as_deref(), Some("é [\\u0009]"));
    }

    #[test]
    fn a_file_without_its_header_or_transcript_is_refused_at_its_line() {
        let dir = tempfile::tempdir().unwrap();
        for (text, says) in [
            ("", "empty (line 1:1)"),
            ("body\n", "line 1:1: no `---` header"),
            ("---\ndescription: \"d\"\n---\nbody\n", "names no `source:`"),
            ("---\nsource: \"a\"\n---\n\n", "no transcript"),
        ] {
            let path = dir.path().join("x.snap");
            std::fs::write(&path, text).unwrap();
            let e = read(&path).unwrap_err().to_string();
            assert!(e.contains(says), "{text:?}: {e}");
            assert!(e.contains("restore it from version control"), "{e}");
        }
        let path = dir.path().join("bad.snap");
        std::fs::write(&path, b"---\nsource: \"a\"\n---\nok\n\xff\n").unwrap();
        let e = read(&path).unwrap_err().to_string();
        assert!(e.contains("line 5: not UTF-8"), "{e}");
    }
}
