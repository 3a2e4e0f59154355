//! Which cases a run asks for, and which files can hold them: a run with filters reads only
//! the scenario files and snapshots that may hold a selected case.

use std::path::Path;

/// The cases whose test name (`<service>::<operation>::<id>`) holds one of the filters, or
/// equals one when `exact`; every case when there are no filters.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub filters: Vec<String>,
    pub exact: bool,
    /// Whether snapshots stay on disk until a case is judged (a run against an endpoint),
    /// instead of all being read at load: 10,000 of them were a fifth of a run's memory.
    pub snapshots_on_disk: bool,
    /// Whether only the models of services the scenario files name are loaded (a run), also
    /// when every case is selected: a project of STS cases has no use for IAM's model.
    pub named_models_only: bool,
}

impl Selection {
    /// Every case.
    pub fn all() -> Selection {
        Selection::default()
    }

    pub fn new(filters: Vec<String>, exact: bool) -> Selection {
        Selection {
            filters,
            exact,
            snapshots_on_disk: false,
            named_models_only: false,
        }
    }

    /// The same cases, with only the models of the services their files name.
    pub fn with_named_models_only(self) -> Selection {
        Selection {
            named_models_only: true,
            ..self
        }
    }

    /// The same cases, their snapshots read only when each is judged.
    pub fn leaving_snapshots_on_disk(self) -> Selection {
        Selection {
            snapshots_on_disk: true,
            ..self
        }
    }

    /// Whether every case is selected.
    pub fn is_all(&self) -> bool {
        self.filters.is_empty()
    }

    /// Whether the case named `test_name` is selected, as libtest filters select tests.
    pub fn wants(&self, test_name: &str) -> bool {
        self.is_all()
            || self.filters.iter().any(|f| {
                if self.exact {
                    test_name == f
                } else {
                    test_name.contains(f.as_str())
                }
            })
    }

    /// Whether the snapshot at `rel` (`<service>/<operation>/<id>.snap` below the snapshots
    /// root) is one a selected case reads. A file elsewhere is no case's, so no selection
    /// with filters needs it.
    pub fn wants_snapshot(&self, rel: &Path) -> bool {
        if self.is_all() {
            return true;
        }
        let mut parts = rel.iter().filter_map(|p| p.to_str());
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(service), Some(operation), Some(file), None) => {
                file.strip_suffix(".snap").is_some_and(|id| {
                    if self.exact {
                        // Compared in place: making every snapshot's name was most of the walk.
                        return self.filters.iter().any(|f| {
                            f.strip_prefix(service)
                                .and_then(|r| r.strip_prefix("::"))
                                .and_then(|r| r.strip_prefix(operation))
                                .and_then(|r| r.strip_prefix("::"))
                                == Some(id)
                        });
                    }
                    self.wants(&format!("{service}::{operation}::{id}"))
                })
            }
            _ => false,
        }
    }

    /// Whether the snapshot directory at `rel` (below the snapshots root) may hold a
    /// snapshot a selected case reads, or lead to one: only `<service>/<operation>/` holds
    /// them, and exact filters name theirs. Listing every other operation's directory was a
    /// tenth of running one case.
    pub fn may_hold_snapshots_in(&self, rel: &Path) -> bool {
        if self.is_all() {
            return true;
        }
        let mut parts = rel.iter().map(|p| p.to_str());
        match (parts.next(), parts.next(), parts.next()) {
            (Some(Some(service)), None, _) => self.may_hold_in(service, None),
            (Some(Some(service)), Some(Some(operation)), None) => {
                self.may_hold_in(service, Some(operation))
            }
            _ => false,
        }
    }

    /// Whether any file of `scenarios/<service>/<operation>/` (or, without an operation,
    /// of the service's directory) may hold a selected case, before reading one: false only
    /// for exact filters, none of which names a case there.
    pub fn may_hold_in(&self, service: &str, operation: Option<&str>) -> bool {
        if self.is_all() || !self.exact {
            return true;
        }
        let prefix = match operation {
            Some(op) => format!("{service}::{op}::"),
            None => format!("{service}::"),
        };
        self.filters.iter().any(|f| f.starts_with(&prefix))
    }

    /// Whether a scenario file in `scenarios/<service>/<operation>/` with this text may hold
    /// a selected case. Never false for a file that holds one: a case's name is the file's
    /// `<service>::<operation>::` and an id, and an id is written in the text as it is, or
    /// (in a double-quoted scalar) with escapes that [`unescaped`] undoes. So a filter that
    /// selects the case lies within the prefix, or its part past the prefix is in the text.
    pub fn may_hold(&self, service: &str, operation: &str, text: &str) -> bool {
        if self.is_all() {
            return true;
        }
        let prefix = format!("{service}::{operation}::");
        let decoded = text.contains('\\').then(|| unescaped(text));
        let in_text = |part: &str| {
            text.contains(part) || decoded.as_deref().is_some_and(|d| d.contains(part))
        };
        self.filters.iter().any(|f| {
            if self.exact {
                return f.strip_prefix(&prefix).is_some_and(in_text);
            }
            prefix.contains(f.as_str())
                || in_text(f)
                // The filter starts inside the prefix and ends inside the id.
                || (1..f.len()).any(|k| {
                    f.is_char_boundary(k) && prefix.ends_with(&f[..k]) && in_text(&f[k..])
                })
        })
    }
}

/// The text with YAML's double-quoted escapes undone wherever they appear (`\x41`, `\u0041`,
/// `\U00000041`, an escaped line break and the next line's indentation, and the one-letter
/// ones), so an id written with escapes is found as it reads. Undoing them outside a
/// double-quoted scalar too only adds text to search.
fn unescaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let hex = |n: usize| {
            after
                .get(1..=n)
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .and_then(char::from_u32)
        };
        let (c, used) = match after.chars().next() {
            Some('x') => (hex(2), 3),
            Some('u') => (hex(4), 5),
            Some('U') => (hex(8), 9),
            Some('\\') => (Some('\\'), 1),
            Some('"') => (Some('"'), 1),
            Some('n') => (Some('\n'), 1),
            Some('t') => (Some('\t'), 1),
            Some(' ') => (Some(' '), 1),
            Some('\n') | Some('\r') => {
                // A line folded away: the break and the next line's leading blanks go.
                rest = after.trim_start_matches(['\r', '\n']);
                rest = rest.trim_start_matches([' ', '\t']);
                continue;
            }
            _ => (None, 0),
        };
        match c {
            Some(c) => {
                out.push(c);
                rest = &after[used..];
            }
            None => {
                out.push('\\');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::{Layout, Sources};

    #[test]
    fn every_filter_that_selects_a_case_of_the_corpus_keeps_its_file() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let sources = Sources::read(&Layout::at(root)).unwrap();
        let text_of = |rel: &str| {
            let f = sources.scenarios.iter().find(|f| f.rel == rel).unwrap();
            f.text.as_deref().unwrap().to_owned()
        };
        let suite = crate::suite::Suite::load(&Layout::at(root)).unwrap();
        assert!(suite.cases.len() > 300);
        let mut dropped = 0;
        for case in &suite.cases {
            let name = case.test_name();
            let text = text_of(&case.file);
            let holds = |s: &Selection| s.may_hold(&case.service, &case.operation, &text);
            assert!(holds(&Selection::new(vec![name.clone()], true)), "{name}");
            // Every substring of the name that starts or ends on a `:` or in the id, cut
            // every few characters: across the prefix, within it, within the id.
            let cuts: Vec<usize> = (0..=name.len())
                .filter(|i| i % 3 == 0 || *i == name.len())
                .collect();
            for &a in &cuts {
                for &b in cuts.iter().filter(|&&b| b > a) {
                    let f = &name[a..b];
                    assert!(
                        holds(&Selection::new(vec![f.to_owned()], false)),
                        "{name}: {f}"
                    );
                }
            }
            // Another case's exact name mostly rules the file out.
            let other = format!("{}::{}::no_such_case_here", case.service, case.operation);
            dropped += usize::from(!holds(&Selection::new(vec![other], true)));
        }
        assert!(dropped > 300, "the pre-filter dropped only {dropped}");
    }

    #[test]
    fn an_id_written_with_escapes_is_found_as_it_reads() {
        let wants = |text: &str, filter: &str, exact: bool| {
            Selection::new(vec![filter.to_owned()], exact).may_hold("sts", "AssumeRole", text)
        };
        for text in [
            "cases:\n  - id: \"ab\\x63_d\"\n",
            "cases:\n  - id: \"ab\\u0063_d\"\n",
            "cases:\n  - id: \"ab\\U00000063_d\"\n",
            "cases:\n  - id: \"ab\\\n      c_d\"\n",
            "cases:\n  - {id: abc_d}\n",
        ] {
            assert!(wants(text, "sts::AssumeRole::abc_d", true), "{text:?}");
            assert!(wants(text, "Role::abc", false), "{text:?}");
            assert!(wants(text, "bc_", false), "{text:?}");
            assert!(!wants(text, "sts::AssumeRole::abd", true), "{text:?}");
            assert!(!wants(text, "xyz", false), "{text:?}");
        }
        // A filter within the prefix selects every case of the directory.
        assert!(wants("cases: []\n", "AssumeRole", false));
        assert!(wants("cases: []\n", "s::Assu", false));
        assert!(!wants("cases: []\n", "GetCallerIdentity", false));
        assert!(Selection::all().may_hold("sts", "AssumeRole", ""));
        assert_eq!(unescaped("a\\\\x41 \\x4 \\q \\\"é"), "a\\x41 \\x4 \\q \"é");
    }

    #[test]
    fn exact_filters_rule_out_the_directories_they_do_not_name() {
        let exact = Selection::new(vec!["sts::AssumeRole::c".into()], true);
        assert!(exact.may_hold_in("sts", None));
        assert!(exact.may_hold_in("sts", Some("AssumeRole")));
        assert!(!exact.may_hold_in("sts", Some("AssumeRoleWithSAML")));
        assert!(!exact.may_hold_in("sts", Some("Assume")));
        assert!(!exact.may_hold_in("iam", None));
        assert!(!exact.may_hold_in("st", None));
        let loose = Selection::new(vec!["sts::AssumeRole::c".into()], false);
        assert!(loose.may_hold_in("iam", Some("CreateRole")));
        assert!(Selection::all().may_hold_in("iam", Some("CreateRole")));
    }

    #[test]
    fn a_run_of_named_cases_lists_only_their_snapshot_directories() {
        let exact = Selection::new(vec!["sts::AssumeRole::c".into()], true);
        let loose = Selection::new(vec!["Role::c".into()], false);
        for (selection, dir, entered) in [
            (&exact, "sts", true),
            (&exact, "sts/AssumeRole", true),
            (&exact, "sts/AssumeRoleWithSAML", false),
            (&exact, "iam", false),
            (&exact, "sts/AssumeRole/deeper", false),
            (&loose, "iam/CreateRole", true),
            (&loose, "iam/CreateRole/deeper", false),
            (&Selection::all(), "a/b/c/d", true),
        ] {
            assert_eq!(
                selection.may_hold_snapshots_in(Path::new(dir)),
                entered,
                "{dir}"
            );
        }
        // What the walk keeps is what the whole walk would have kept.
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots");
        let one = Selection::new(
            vec!["sts::AssumeRole::assume_role_inline_policy".into()],
            true,
        );
        let load = |descend: &dyn Fn(&Path) -> bool| {
            crate::snapshot::SnapshotStore::load_where(
                &root,
                descend,
                |rel| one.wants_snapshot(rel),
                true,
            )
            .unwrap()
            .len()
        };
        let pruned = load(&|d| one.may_hold_snapshots_in(d));
        assert_eq!(pruned, 1);
        assert_eq!(pruned, load(&|_| true));
    }

    #[test]
    fn snapshots_are_wanted_by_the_name_their_path_makes() {
        let s = Selection::new(vec!["AssumeRole::c".into()], false);
        assert!(s.wants_snapshot(Path::new("sts/AssumeRole/c1.snap")));
        assert!(!s.wants_snapshot(Path::new("sts/AssumeRole/d.snap")));
        assert!(!s.wants_snapshot(Path::new("sts/AssumeRole/c1.snap.new")));
        assert!(!s.wants_snapshot(Path::new("AssumeRole/c1.snap")));
        let exact = Selection::new(vec!["sts::AssumeRole::c".into()], true);
        assert!(exact.wants_snapshot(Path::new("sts/AssumeRole/c.snap")));
        assert!(!exact.wants_snapshot(Path::new("sts/AssumeRole/c1.snap")));
        assert!(Selection::all().wants_snapshot(Path::new("anything")));
    }
}
