//! Finding the case a request is: the expected requests with the same parameter names are
//! compared with it value by value (literals exactly, open variables bound, free parameters
//! checked against the model, chosen values against their shape), then by credentials and
//! body type; the most literal match wins.

use std::collections::HashMap;
use std::sync::Arc;

use super::Replay;
use super::decode::Incoming;
use super::expect::{Creds, Entry, Value};
use super::index::Members;
use super::keys::Identity;
use super::miss::clip;
use super::verify::{content_type_fits, signed_with};

/// What a request bound: variables (captures, the run id, values a client chose, what
/// those derive) and values it named in place of a case's own.
#[derive(Debug, Clone, Default)]
pub(super) struct Binding {
    pub vars: HashMap<String, String>,
    /// A case's literal (the session it names) and the value the client sent instead.
    pub replaced: Vec<(String, String)>,
}

impl Binding {
    /// `other` over `self`.
    pub fn merged(&self, other: &Binding) -> Binding {
        let mut out = self.clone();
        out.vars
            .extend(other.vars.iter().map(|(k, v)| (k.clone(), v.clone())));
        out.replaced.extend(other.replaced.iter().cloned());
        out
    }
}

/// Whether a chosen value has its variable's shape, by variable and value, within one
/// request (a handful at most: a list).
pub(super) type Shapes = Vec<(String, String, bool)>;

/// An entry that came close, with how many differences and, once asked, what they are.
pub(super) type Near<'a> = (usize, &'a Entry, Vec<String>);

/// One entry compared with a request. What it binds borrows from the entry and the request:
/// only the entry that answers turns it into a `Binding`.
pub(super) struct Compared<'a> {
    /// Parameters that matched literally.
    exact: usize,
    /// Open parameters with literal text around their variables (`conform-{{run_id}}-x`):
    /// they say more than a value that is one variable (a capture), so they rank higher.
    partial: usize,
    /// Variables bound, by name.
    vars: Vec<(&'a str, &'a str)>,
    /// A case's literal and the value named in its place.
    replaced: Vec<(&'a str, &'a str)>,
    /// What differs, in words when asked to explain (else empty words, one per miss: words
    /// cost, and only the closest misses are ever shown).
    pub misses: Vec<String>,
}

impl Compared<'_> {
    fn miss(&mut self, explain: bool, words: impl FnOnce() -> String) {
        self.misses
            .push(if explain { words() } else { String::new() });
    }

    fn binding(&self) -> Binding {
        Binding {
            vars: self
                .vars
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            replaced: self
                .replaced
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }
}

/// What the search found.
pub(super) enum Found<'a> {
    /// The entry that answers, what the request bound, and every case that matched as well
    /// (they share the keys the answer hands out), in entry order.
    Match {
        entry: &'a Entry,
        binding: Binding,
        tied: Arc<[usize]>,
    },
    /// No entry matches (`closest` says which came nearest).
    Miss,
}

/// Classes that tie for the best match: what their shared parameters bound, where their
/// free parameters are, and the members that match best.
struct Tie<'a> {
    vars: Vec<(&'a str, &'a str)>,
    free: &'a [usize],
    sets: Vec<&'a Members>,
}

/// How well an entry matches, compared in order: literal parameters, open parameters with
/// literal text, then `bonus`.
type Score = (usize, usize, usize);

/// What ranks matches with as many literal values: named keys, then the case the handed-out
/// keys belong to, then a raw request of its own type, then a documented example. The first
/// of equals wins, so the same request always gets the same case.
fn bonus(e: &Entry, issued: bool) -> usize {
    8 * usize::from(matches!(e.creds, Creds::Key(..)))
        + 4 * usize::from(issued)
        + 2 * usize::from(e.raw && e.content_type.is_some())
        + usize::from(e.doc)
}

/// Who signed a request, as far as the server can tell.
pub(super) struct Signer<'a> {
    pub key: Option<&'a str>,
    /// The session the key stands for, when this server handed it out.
    pub identity: Option<&'a Identity>,
    /// Temporary keys this server never handed out nor was told are the client's.
    pub stranger: bool,
}

impl Signer<'_> {
    pub fn issued_to(&self, case: usize) -> bool {
        // Owners are listed in entry order, which is the cases' order.
        self.identity
            .is_some_and(|i| i.cases.binary_search(&case).is_ok())
    }

    fn fits(&self, e: &Entry, req: &Incoming) -> bool {
        match &e.creds {
            Creds::Own => self.key.is_some() && self.identity.is_none() && !self.stranger,
            Creds::Unsigned => self.key.is_none(),
            Creds::Issued => self.issued_to(e.case),
            Creds::Key(k, secret) => {
                self.key == Some(k.as_str())
                    && secret.as_ref().is_none_or(|s| signed_with(req, k, s))
            }
        }
    }
}

impl Replay {
    /// The entry a request is. Only the classes of entries the index files under the
    /// request's values are met, each compared once for all its members; the answer is the
    /// one `scan` would find among all entries with these names.
    pub(super) fn find<'a>(
        &'a self,
        req: &Incoming,
        params: &'a [(String, String)],
        signer: &Signer<'_>,
    ) -> Found<'a> {
        let Some(group) = self.index.group(params) else {
            return Found::Miss;
        };
        let classes = group.candidates(params);
        if signer.identity.is_some() {
            // Handed-out keys favour the cases they were handed to, which members of one
            // class may differ in: those requests meet each member.
            let mut members: Vec<usize> = classes
                .iter()
                .flat_map(|&c| group.classes[c].all.entries.iter().copied())
                .collect();
            members.sort_unstable();
            let entries = members.iter().map(|&i| &self.entries[i]);
            return self.scan(entries, req, params, signer, None);
        }
        let mut shapes = Shapes::new();
        let mut best: Option<(Score, Vec<Tie<'a>>)> = None;
        for ci in classes {
            let class = &group.classes[ci];
            let e = &self.entries[class.first()];
            let Some(c) = self.compare_values(e, params, &mut shapes, false, true) else {
                continue;
            };
            if !c.misses.is_empty() || !signer.fits(e, req) || !content_type_fits(e, req) {
                continue;
            }
            let allowed: Vec<bool> = class
                .free
                .iter()
                .map(|&f| {
                    e.free
                        .iter()
                        .find(|(j, _)| *j == f)
                        .is_some_and(|(_, check)| check.allows(&params[f].1))
                })
                .collect();
            let Some((level, sets)) = class.best(params, &allowed) else {
                continue;
            };
            let score = (c.exact + level, c.partial, bonus(e, false));
            let tie = Tie {
                vars: c.vars,
                free: &class.free,
                sets,
            };
            match &mut best {
                Some((s, _)) if score < *s => {}
                Some((s, ties)) if score == *s => ties.push(tie),
                _ => best = Some((score, vec![tie])),
            }
        }
        let Some((_, ties)) = best else {
            return Found::Miss;
        };
        let Some((tie, first)) = ties
            .iter()
            .flat_map(|t| t.sets.iter().map(move |m| (t, m.entries[0])))
            .min_by_key(|(_, first)| *first)
        else {
            return Found::Miss;
        };
        let entry = &self.entries[first];
        let sets: Vec<&Members> = ties.iter().flat_map(|t| t.sets.iter().copied()).collect();
        let tied = match sets.as_slice() {
            [one] => Arc::clone(&one.cases),
            _ => {
                let mut all: Vec<usize> = sets
                    .iter()
                    .flat_map(|m| m.entries.iter().copied())
                    .collect();
                all.sort_unstable();
                all.iter().map(|&i| self.entries[i].case).collect()
            }
        };
        let binding = Binding {
            vars: tie
                .vars
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            replaced: tie
                .free
                .iter()
                .filter_map(|&f| match &entry.params[f].1 {
                    Value::Literal(l) if *l != params[f].1 => {
                        Some((l.clone(), params[f].1.clone()))
                    }
                    _ => None,
                })
                .collect(),
        };
        Found::Match {
            entry,
            binding,
            tied,
        }
    }

    /// The entries with these parameter names that came closest to matching a request
    /// that matched none.
    pub(super) fn closest<'a>(
        &'a self,
        req: &Incoming,
        params: &'a [(String, String)],
        signer: &Signer<'_>,
    ) -> Vec<Near<'a>> {
        let mut near = Vec::new();
        self.scan(
            self.entries_named(params),
            req,
            params,
            signer,
            Some(&mut near),
        );
        near
    }

    /// The entry a request is among these, compared one by one (and, when `near` is given,
    /// those that came close).
    pub(super) fn scan<'a>(
        &'a self,
        entries: impl Iterator<Item = &'a Entry>,
        req: &Incoming,
        params: &'a [(String, String)],
        signer: &Signer<'_>,
        mut near: Option<&mut Vec<Near<'a>>>,
    ) -> Found<'a> {
        let mut best: Option<(Score, &Entry, Binding)> = None;
        let mut tied: Vec<usize> = Vec::new();
        // A chosen value is checked against its shape once per request, not once per case.
        let mut shapes = Shapes::new();
        for e in entries {
            let Some(c) = self.compare(e, params, &mut shapes, false) else {
                continue;
            };
            if !c.misses.is_empty() {
                if let Some(near) = near.as_deref_mut() {
                    near.push((c.misses.len(), e, c.misses));
                }
                continue;
            }
            let creds_ok = signer.fits(e, req);
            // Same parameters, other credentials or body type: the closest there is.
            if !creds_ok || !content_type_fits(e, req) {
                let why = if creds_ok {
                    "the same parameters, but another Content-Type".to_owned()
                } else {
                    format!(
                        "the same parameters, but the case signs this step with {}",
                        e.wants()
                    )
                };
                if let Some(near) = near.as_deref_mut() {
                    near.push((0, e, vec![why]));
                }
                continue;
            }
            let score = (c.exact, c.partial, bonus(e, signer.issued_to(e.case)));
            match &best {
                Some((s, _, _)) if score < *s => {}
                Some((s, _, _)) if score == *s => tied.push(e.case),
                _ => {
                    tied = vec![e.case];
                    best = Some((score, e, c.binding()));
                }
            }
        }
        match best {
            Some((_, entry, binding)) => Found::Match {
                entry,
                binding,
                tied: tied.into(),
            },
            None => Found::Miss,
        }
    }

    /// The steps whose requests carry exactly these parameter names: the only ones a
    /// request can match.
    pub(super) fn entries_named<'a>(
        &'a self,
        params: &[(String, String)],
    ) -> impl Iterator<Item = &'a Entry> {
        self.index
            .group(params)
            .map_or(&[][..], |g| g.entries.as_slice())
            .iter()
            .map(|&i| &self.entries[i])
    }

    /// One entry against a request's decoded, sorted parameters: None when the parameter
    /// names differ.
    pub(super) fn compare<'a>(
        &self,
        e: &'a Entry,
        got: &'a [(String, String)],
        shapes: &mut Shapes,
        explain: bool,
    ) -> Option<Compared<'a>> {
        self.compare_values(e, got, shapes, explain, false)
    }

    /// `compare`, leaving out free parameters when `skip_free` (what the members of a class
    /// send there is looked up apart).
    fn compare_values<'a>(
        &self,
        e: &'a Entry,
        got: &'a [(String, String)],
        shapes: &mut Shapes,
        explain: bool,
        skip_free: bool,
    ) -> Option<Compared<'a>> {
        if e.params.len() != got.len() || e.params.iter().zip(got).any(|((a, _), (b, _))| a != b) {
            return None;
        }
        let mut c = Compared {
            exact: 0,
            partial: 0,
            vars: Vec::new(),
            replaced: Vec::new(),
            misses: Vec::new(),
        };
        for (i, ((k, want), (_, have))) in e.params.iter().zip(got).enumerate() {
            match want {
                Value::Literal(_) if skip_free && e.free.iter().any(|(j, _)| *j == i) => {}
                Value::Literal(l) if l == have => c.exact += 1,
                Value::Literal(l) => match e.free.iter().find(|(j, _)| *j == i) {
                    Some((_, check)) if check.allows(have) => {
                        c.replaced.push((l.as_str(), have.as_str()));
                    }
                    Some(_) => c.miss(explain, || {
                        format!(
                            "{k} `{}` is no value the model allows (the case sends `{}`)",
                            clip(have),
                            clip(l)
                        )
                    }),
                    None => c.miss(explain, || self.literal_miss(k, l, have)),
                },
                Value::Open { re, vars } => {
                    c.partial += usize::from(re.is_some());
                    // A whole value that is one variable needs no regex.
                    let values: Vec<&str> = match re {
                        None => vec![have.as_str()],
                        Some(re) => match re.captures(have) {
                            Some(caps) => (0..vars.len())
                                .map(|i| caps.get(i + 1).map_or("", |m| m.as_str()))
                                .collect(),
                            None => {
                                c.miss(explain, || format!("{k} `{}` differs", clip(have)));
                                continue;
                            }
                        },
                    };
                    for (name, v) in vars.iter().zip(values) {
                        if c.vars.iter().any(|(n, b)| *n == name && *b != v) {
                            c.miss(explain, || {
                                format!("{k} names another {name} than an earlier parameter")
                            });
                        }
                        if e.chosen.contains(name)
                            && let Some(shape) = self.chosen.get(name)
                        {
                            // Checked once per request; what the value derives is taken
                            // for the entry that answers, not for every candidate.
                            let fits = match shapes.iter().find(|(n, x, _)| n == name && x == v) {
                                Some((_, _, fits)) => *fits,
                                None => {
                                    let fits = shape.is_match(v);
                                    shapes.push((name.clone(), v.to_owned(), fits));
                                    fits
                                }
                            };
                            if !fits {
                                c.miss(explain, || {
                                    format!(
                                        "{k} `{}` does not have the shape of {name} (`{}`)",
                                        clip(v),
                                        shape.written
                                    )
                                });
                            }
                        }
                        c.vars.push((name.as_str(), v));
                    }
                }
            }
        }
        Some(c)
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::scenario::Role;

    pub(in crate::replay) fn entry(case: usize, params: &[(&str, Value)], creds: Creds) -> Entry {
        let mut params: Vec<(String, Value)> = params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        params.sort_by(|a, b| a.0.cmp(&b.0));
        Entry {
            case,
            role: Role::Check,
            test_name: format!("svc::Op::case_{case}"),
            service: "svc".into(),
            params,
            creds,
            signing_name: None,
            raw: false,
            content_type: None,
            answer: None,
            chosen: Vec::new(),
            free: Vec::new(),
            doc: false,
            issuer_op: None,
        }
    }

    pub(in crate::replay) fn lit(v: &str) -> Value {
        Value::Literal(v.into())
    }

    pub(in crate::replay) fn replay(entries: Vec<Entry>) -> Replay {
        let vars = [("account_id".to_owned(), "123456789012".to_owned())].into();
        Replay::with_entries(entries, vars)
    }

    pub(in crate::replay) fn request(body: &str, signed: bool) -> Incoming {
        let mut headers = vec![(
            "content-type".to_owned(),
            "application/x-www-form-urlencoded".to_owned(),
        )];
        if signed {
            headers.push((
                "authorization".into(),
                "AWS4-HMAC-SHA256 Credential=AKIDOWN/20260101/us-east-1/svc/aws4_request, Signature=0".into(),
            ));
        }
        Incoming {
            method: "POST".into(),
            query: None,
            headers,
            body: body.as_bytes().to_vec(),
        }
    }

    /// The request's own key, no handed-out keys.
    pub(in crate::replay) fn signer(req: &Incoming) -> Signer<'_> {
        Signer {
            key: req.access_key(),
            identity: None,
            stranger: false,
        }
    }

    fn find(r: &Replay, body: &str, signed: bool) -> Result<(usize, Binding), Vec<String>> {
        let req = request(body, signed);
        let params = req.params();
        let signer = signer(&req);
        match r.find(&req, &params, &signer) {
            Found::Match { entry, binding, .. } => Ok((entry.case, binding)),
            Found::Miss => Err(r
                .closest(&req, &params, &signer)
                .into_iter()
                .flat_map(|(_, _, why)| why)
                .collect()),
        }
    }

    pub(in crate::replay) fn open(name: &str) -> Value {
        Value::Open {
            re: None,
            vars: vec![name.into()],
        }
    }

    #[test]
    fn the_most_literal_match_wins_and_open_values_bind() {
        let r = replay(vec![
            entry(
                0,
                &[("Action", lit("Op")), ("Name", open("run_id"))],
                Creds::Own,
            ),
            entry(
                1,
                &[("Action", lit("Op")), ("Name", lit("fixed"))],
                Creds::Own,
            ),
        ]);
        let (case, binding) = find(&r, "Action=Op&Name=fixed", true).unwrap();
        assert_eq!(case, 1, "a literal beats an open value");
        assert!(binding.vars.is_empty());
        let (case, binding) = find(&r, "Name=abc&Action=Op", true).unwrap();
        assert_eq!(case, 0);
        assert_eq!(binding.vars["run_id"], "abc");
        // Other parameter names: nothing to compare with.
        assert_eq!(
            find(&r, "Action=Op", true).unwrap_err(),
            Vec::<String>::new()
        );
    }

    #[test]
    fn credentials_and_literals_that_differ_come_closest() {
        let r = replay(vec![
            entry(0, &[("Action", lit("Op")), ("A", lit("1"))], Creds::Own),
            entry(
                1,
                &[("Action", lit("Op")), ("A", lit("2"))],
                Creds::Unsigned,
            ),
        ]);
        assert_eq!(find(&r, "Action=Op&A=1", true).unwrap().0, 0);
        assert_eq!(find(&r, "Action=Op&A=2", false).unwrap().0, 1);
        let why = find(&r, "Action=Op&A=2", true).unwrap_err();
        assert!(
            why.iter().any(|w| w
                == "the same parameters, but the case signs this step with no signature"),
            "{why:?}"
        );
        // Misses are counted but left unworded until a miss is reported.
        let why = find(&r, "Action=Op&A=3", true).unwrap_err();
        assert_eq!(why, ["", ""]);
        let req = request("Action=Op&A=3", true);
        let params = req.params();
        let c = r
            .compare(&r.entries[0], &params, &mut Shapes::new(), true)
            .unwrap();
        assert_eq!(c.misses, ["A is `3`, the case expects `1`"]);
    }

    #[test]
    fn one_variable_bound_twice_must_be_the_same() {
        let two = Value::Open {
            re: Some(regex::Regex::new("^(?P<v0>.*?)-x$").unwrap()),
            vars: vec!["run_id".into()],
        };
        let r = replay(vec![entry(
            0,
            &[("Action", lit("Op")), ("A", open("run_id")), ("B", two)],
            Creds::Own,
        )]);
        assert_eq!(find(&r, "Action=Op&A=r1&B=r1-x", true).unwrap().0, 0);
        assert!(find(&r, "Action=Op&A=r1&B=r2-x", true).is_err());
        assert!(find(&r, "Action=Op&A=r1&B=r1-y", true).is_err());
    }
}
