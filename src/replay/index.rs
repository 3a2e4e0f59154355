//! The expected requests filed so that a request meets only the entries that can match it.
//! Entries are grouped by their parameter names; within a group, entries that send the same
//! request but for the values of free parameters form a class, compared once for all its
//! members; classes are filed by the literal value of the one parameter that tells them
//! apart best, those whose value there is open or free kept aside and always met. Within a
//! class, members are filed by the values they send in free parameters, so the members with
//! the most of them equal to the request's are looked up, not counted.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use super::decode::names_key;
use super::expect::{Creds, Entry, Value};

/// Past this many free parameters in one request, a class counts its members' equal values
/// one by one instead of filing them by every subset of those parameters.
const MAX_FREE: usize = 4;

/// Some of a class's members, in entry order: the entries and the cases they belong to.
#[derive(Debug, Clone)]
pub(super) struct Members {
    pub entries: Arc<[usize]>,
    pub cases: Arc<[usize]>,
}

impl Members {
    fn of(mut entries: Vec<usize>, all: &[Entry]) -> Members {
        entries.sort_unstable();
        let cases: Vec<usize> = entries.iter().map(|&i| all[i].case).collect();
        Members {
            entries: entries.into(),
            cases: cases.into(),
        }
    }
}

/// Entries whose requests differ at most in the values of free parameters.
pub(super) struct Class {
    /// The positions of the free parameters, in order.
    pub free: Vec<usize>,
    pub all: Members,
    /// Members by a subset of the free positions (a bit mask, never empty) and the values
    /// they send there; only for classes with at most `MAX_FREE` free parameters.
    by_free: HashMap<String, Members>,
    /// Members by the values they send in every free position.
    subs: Vec<(Vec<String>, Members)>,
}

impl Class {
    /// The first entry, standing for the whole class wherever free values do not matter.
    pub fn first(&self) -> usize {
        self.all.entries[0]
    }

    /// The members with the most free values equal to the request's, among those that send
    /// the request's own value wherever the model does not allow it (`allowed` is false):
    /// how many are equal, and the members, in disjoint sets. None when no member matches.
    pub fn best(
        &self,
        got: &[(String, String)],
        allowed: &[bool],
    ) -> Option<(usize, Vec<&Members>)> {
        let n = self.free.len();
        if n == 0 {
            return Some((0, vec![&self.all]));
        }
        let value = |k: usize| got[self.free[k]].1.as_str();
        if n > MAX_FREE {
            return self.counted(&value, allowed);
        }
        let needed: u32 = (0..n).filter(|&k| !allowed[k]).map(|k| 1 << k).sum();
        for level in (0..=n).rev() {
            let mut found = Vec::new();
            for mask in (0u32..1 << n).filter(|m| m.count_ones() as usize == level) {
                if mask & needed != needed {
                    continue;
                }
                if mask == 0 {
                    found.push(&self.all);
                } else if let Some(m) = self.by_free.get(&free_key(mask, n, &value)) {
                    found.push(m);
                }
            }
            if !found.is_empty() {
                return Some((level, found));
            }
        }
        None
    }

    fn counted<'a>(
        &self,
        value: &dyn Fn(usize) -> &'a str,
        allowed: &[bool],
    ) -> Option<(usize, Vec<&Members>)> {
        let mut best: Option<(usize, Vec<&Members>)> = None;
        for (values, members) in &self.subs {
            let equal: Vec<bool> = (0..values.len()).map(|k| values[k] == value(k)).collect();
            if equal.iter().zip(allowed).any(|(e, a)| !e && !a) {
                continue;
            }
            let level = equal.iter().filter(|e| **e).count();
            match &mut best {
                Some((l, _)) if level < *l => {}
                Some((l, sets)) if level == *l => sets.push(members),
                _ => best = Some((level, vec![members])),
            }
        }
        best
    }
}

/// The entries that send one set of parameter names.
pub(super) struct Group {
    /// Every entry of the group, in entry order (what a miss is compared with).
    pub entries: Vec<usize>,
    pub classes: Vec<Class>,
    /// The position whose literal value files the classes, when that is worth it.
    at: Option<usize>,
    /// By the hash of the value (a collision only adds classes to compare).
    by_value: HashMap<u64, Vec<usize>>,
    /// Classes whose value at `at` is open or free: met by every request.
    open: Vec<usize>,
}

impl Group {
    /// The classes a request with these parameters can match, in entry order.
    pub fn candidates(&self, got: &[(String, String)]) -> Vec<usize> {
        let Some(at) = self.at else {
            return (0..self.classes.len()).collect();
        };
        let filed = got
            .get(at)
            .and_then(|(_, v)| self.by_value.get(&hash_of(v)))
            .map_or(&[][..], Vec::as_slice);
        let mut out = Vec::with_capacity(filed.len() + self.open.len());
        let (mut a, mut b) = (filed.iter().peekable(), self.open.iter().peekable());
        loop {
            let next = match (a.peek(), b.peek()) {
                (Some(x), Some(y)) if x < y => a.next(),
                (Some(_), Some(_)) | (None, Some(_)) => b.next(),
                (Some(_), None) => a.next(),
                (None, None) => break,
            };
            out.extend(next.copied());
        }
        out
    }
}

/// Every group, by its parameter names.
#[derive(Default)]
pub(super) struct Index {
    groups: HashMap<String, Group>,
}

impl Index {
    pub fn new(entries: &[Entry]) -> Index {
        let mut named: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, e) in entries.iter().enumerate() {
            named
                .entry(names_key(e.params.iter().map(|(k, _)| k.as_str())))
                .or_default()
                .push(i);
        }
        let groups = named
            .into_iter()
            .map(|(k, members)| (k, group(members, entries)))
            .collect();
        Index { groups }
    }

    pub fn group(&self, params: &[(String, String)]) -> Option<&Group> {
        self.groups
            .get(&names_key(params.iter().map(|(k, _)| k.as_str())))
    }
}

fn group(members: Vec<usize>, entries: &[Entry]) -> Group {
    // Long values (assertions, policies) are hashed once; classes are found by the hash of
    // what decides a match and confirmed field by field.
    let hashes: Vec<Vec<u64>> = members
        .iter()
        .map(|&i| {
            entries[i]
                .params
                .iter()
                .map(|(_, v)| value_hash(v))
                .collect()
        })
        .collect();
    let mut keyed: HashMap<u64, Vec<usize>> = HashMap::new();
    let mut listed: Vec<Vec<usize>> = Vec::new();
    let mut firsts: Vec<usize> = Vec::new();
    for (m, &i) in members.iter().enumerate() {
        let same = keyed.entry(class_key(&entries[i], &hashes[m])).or_default();
        match same
            .iter()
            .find(|&&n| same_request(&entries[listed[n][0]], &entries[i]))
        {
            Some(&n) => listed[n].push(i),
            None => {
                same.push(listed.len());
                listed.push(vec![i]);
                firsts.push(m);
            }
        }
    }
    let classes: Vec<Class> = listed.into_iter().map(|m| class(m, entries)).collect();
    let width = entries[members[0]].params.len();
    // A class's value at each position, when it requires that literal there.
    let fixed = |c: usize, pos: usize| {
        fixed_literal(&entries[classes[c].first()], pos).map(|_| hashes[firsts[c]][pos])
    };
    // The position that leaves a request the fewest classes to meet, on average over the
    // classes' own requests; a handful of classes are simply all met.
    let mut at = None;
    if classes.len() > 4 {
        let mut cheapest = classes.len() as f64;
        for pos in 0..width {
            let mut sizes: HashMap<u64, usize> = HashMap::new();
            let mut open = 0usize;
            for c in 0..classes.len() {
                match fixed(c, pos) {
                    Some(h) => *sizes.entry(h).or_default() += 1,
                    None => open += 1,
                }
            }
            let filed: usize = sizes.values().map(|n| n * n).sum();
            let cost = open as f64 + filed as f64 / classes.len() as f64;
            if cost < cheapest {
                cheapest = cost;
                at = Some(pos);
            }
        }
    }
    let mut by_value: HashMap<u64, Vec<usize>> = HashMap::new();
    let mut open = Vec::new();
    if let Some(pos) = at {
        for c in 0..classes.len() {
            match fixed(c, pos) {
                Some(h) => by_value.entry(h).or_default().push(c),
                None => open.push(c),
            }
        }
    }
    Group {
        entries: members,
        classes,
        at,
        by_value,
        open,
    }
}

fn hash_of(v: &str) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    v.hash(&mut h);
    h.finish()
}

/// A literal's hash is the hash of its text, so a request's value finds it.
fn value_hash(v: &Value) -> u64 {
    match v {
        Value::Literal(l) => hash_of(l),
        Value::Open { re, vars } => {
            let mut h = std::hash::DefaultHasher::new();
            re.as_ref().map(|r| r.as_str()).hash(&mut h);
            vars.hash(&mut h);
            h.finish()
        }
    }
}

/// The literal an entry requires at a position, unless a client may name it freely there.
fn fixed_literal(e: &Entry, pos: usize) -> Option<&str> {
    match &e.params[pos].1 {
        Value::Literal(l) if !e.free.iter().any(|(j, _)| *j == pos) => Some(l),
        _ => None,
    }
}

fn class(members: Vec<usize>, entries: &[Entry]) -> Class {
    let first = &entries[members[0]];
    let mut free: Vec<usize> = first.free.iter().map(|(j, _)| *j).collect();
    free.sort_unstable();
    free.dedup();
    let mut subs: Vec<(Vec<String>, Vec<usize>)> = Vec::new();
    let mut sub_of: HashMap<Vec<String>, usize> = HashMap::new();
    for &i in &members {
        let values: Vec<String> = free
            .iter()
            .map(|&f| match &entries[i].params[f].1 {
                Value::Literal(l) => l.clone(),
                Value::Open { .. } => String::new(),
            })
            .collect();
        let n = *sub_of.entry(values.clone()).or_insert_with(|| {
            subs.push((values, Vec::new()));
            subs.len() - 1
        });
        subs[n].1.push(i);
    }
    let mut by_free: HashMap<String, Vec<usize>> = HashMap::new();
    if free.len() <= MAX_FREE {
        for (values, m) in &subs {
            for mask in 1u32..1 << free.len() {
                by_free
                    .entry(free_key(mask, free.len(), &|k| values[k].as_str()))
                    .or_default()
                    .extend(m);
            }
        }
    }
    Class {
        free,
        all: Members::of(members, entries),
        by_free: by_free
            .into_iter()
            .map(|(k, m)| (k, Members::of(m, entries)))
            .collect(),
        subs: subs
            .into_iter()
            .map(|(v, m)| (v, Members::of(m, entries)))
            .collect(),
    }
}

/// The values at the free positions a mask names, each with its length so that no two
/// lists of values share a key.
fn free_key<'a>(mask: u32, n: usize, value: &dyn Fn(usize) -> &'a str) -> String {
    let mut key = format!("{mask}|");
    for k in (0..n).filter(|k| mask & (1 << k) != 0) {
        let v = value(k);
        key.push_str(&v.len().to_string());
        key.push(':');
        key.push_str(v);
    }
    key
}

/// Whether an entry is free at a position, and with which checks.
fn free_at(e: &Entry, pos: usize) -> Vec<String> {
    e.free
        .iter()
        .filter(|(j, _)| *j == pos)
        .map(|(_, check)| check.describe())
        .collect()
}

/// Whether two entries match the same requests as well, whatever their free values and
/// their cases.
fn same_request(a: &Entry, b: &Entry) -> bool {
    let creds = match (&a.creds, &b.creds) {
        (Creds::Own, Creds::Own)
        | (Creds::Unsigned, Creds::Unsigned)
        | (Creds::Issued, Creds::Issued) => true,
        (Creds::Key(k, s), Creds::Key(l, t)) => k == l && s == t,
        _ => false,
    };
    let params = a.params.len() == b.params.len()
        && a.params
            .iter()
            .zip(&b.params)
            .enumerate()
            .all(|(i, ((k, v), (l, w)))| {
                let (fa, fb) = (free_at(a, i), free_at(b, i));
                k == l
                    && fa == fb
                    && match (v, w) {
                        (Value::Literal(_), Value::Literal(_)) if !fa.is_empty() => true,
                        (Value::Literal(x), Value::Literal(y)) => x == y,
                        (Value::Open { re, vars }, Value::Open { re: r, vars: u }) => {
                            re.as_ref().map(|x| x.as_str()) == r.as_ref().map(|x| x.as_str())
                                && vars == u
                        }
                        _ => false,
                    }
            });
    creds
        && params
        && a.service == b.service
        && a.chosen == b.chosen
        && a.raw == b.raw
        && a.content_type == b.content_type
        && a.doc == b.doc
}

/// The hash of what `same_request` compares.
fn class_key(e: &Entry, hashes: &[u64]) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    e.service.hash(&mut h);
    for (i, ((k, _), vh)) in e.params.iter().zip(hashes).enumerate() {
        k.hash(&mut h);
        let free = free_at(e, i);
        if free.is_empty() {
            vh.hash(&mut h);
        } else {
            free.hash(&mut h);
        }
    }
    e.chosen.hash(&mut h);
    match &e.creds {
        Creds::Own => 0u8.hash(&mut h),
        Creds::Unsigned => 1u8.hash(&mut h),
        Creds::Issued => 2u8.hash(&mut h),
        Creds::Key(k, secret) => {
            3u8.hash(&mut h);
            k.hash(&mut h);
            secret.hash(&mut h);
        }
    }
    e.raw.hash(&mut h);
    e.content_type.hash(&mut h);
    e.doc.hash(&mut h);
    h.finish()
}
#[cfg(test)]
mod tests {
    use super::super::Replay;
    use super::super::expect::FreeCheck;
    use super::super::keys::Identity;
    use super::super::matching::tests::{entry, lit, open, replay, request, signer};
    use super::super::matching::{Found, Signer};
    use super::*;

    /// A small deterministic generator, so a failure names its seed.
    struct Lcg(u64);

    impl Lcg {
        fn pick(&mut self, n: usize) -> usize {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((self.0 >> 33) % n as u64) as usize
        }
    }

    /// Many entries over few values: equal requests in different cases, open and free
    /// values, other credentials, documented examples; a few cases with two steps.
    fn entries(rng: &mut Lcg) -> Vec<Entry> {
        let mut out = Vec::new();
        for i in 0..120 {
            let case = i - i / 10;
            let a = match rng.pick(5) {
                0 => open("run_id"),
                n => lit(["1", "2", "3", "4"][n - 1]),
            };
            let mut params = vec![
                ("Action", lit("Op")),
                ("A", a),
                ("B", lit(["x", "y", "z"][rng.pick(3)])),
            ];
            if rng.pick(6) == 0 {
                params.push(("C", lit("c")));
            }
            let creds = match rng.pick(8) {
                0 => Creds::Unsigned,
                1 => Creds::Key("AKIDOWN".into(), None),
                2 => Creds::Issued,
                _ => Creds::Own,
            };
            let mut e = entry(case, &params, creds);
            e.doc = rng.pick(4) == 0;
            let b = e.params.iter().position(|(k, _)| k == "B").unwrap();
            match rng.pick(3) {
                0 => e.free.push((b, FreeCheck::new(None, Some(1), None))),
                1 => e
                    .free
                    .push((b, FreeCheck::new(None, None, Some("^[a-z]+$")))),
                _ => {}
            }
            if rng.pick(3) == 0
                && let Value::Literal(_) = e.params[0].1
            {
                e.free
                    .push((0, FreeCheck::new(None, None, Some("^[0-9]$"))));
            }
            out.push(e);
        }
        out
    }

    type Outcome = Option<(
        usize,
        Vec<(String, String)>,
        Vec<(String, String)>,
        Vec<usize>,
    )>;

    fn outcome(found: Found<'_>, r: &Replay) -> Outcome {
        match found {
            Found::Match {
                entry,
                binding,
                tied,
            } => {
                let at = r
                    .entries
                    .iter()
                    .position(|e| std::ptr::eq(e, entry))
                    .unwrap();
                let mut vars: Vec<(String, String)> = binding.vars.into_iter().collect();
                vars.sort();
                Some((at, vars, binding.replaced, tied.to_vec()))
            }
            Found::Miss => None,
        }
    }

    #[test]
    fn the_index_finds_what_a_scan_of_every_entry_finds() {
        let mut matched = 0;
        for seed in 0..20u64 {
            let mut rng = Lcg(seed);
            let r = replay(entries(&mut rng));
            let issued: Arc<[usize]> = (0..100).filter(|c| c % 7 == seed as usize % 7).collect();
            let identity = Identity {
                op: "Op".into(),
                service: "svc".into(),
                arn: String::new(),
                user_id: String::new(),
                account: String::new(),
                expires: None,
                binding: Default::default(),
                cases: issued,
            };
            for a in ["1", "2", "3", "9", "run-1"] {
                for b in ["x", "y", "z", "q", "Q", "xy"] {
                    for c in ["", "&C=c"] {
                        for how in 0..3 {
                            let body = format!("Action=Op&A={a}&B={b}{c}");
                            let req = request(&body, how > 0);
                            let params = req.params();
                            let signer = Signer {
                                identity: (how == 2).then_some(&identity),
                                ..signer(&req)
                            };
                            let found = outcome(r.find(&req, &params, &signer), &r);
                            let everyone = r.entries_named(&params);
                            let scanned =
                                outcome(r.scan(everyone, &req, &params, &signer, None), &r);
                            assert_eq!(found, scanned, "seed {seed}, {body}, signed {how}");
                            matched += usize::from(found.is_some());
                        }
                    }
                }
            }
        }
        // The requests must exercise matches, ties and misses, not only misses.
        assert!(matched > 1000, "{matched}");
    }

    #[test]
    fn equal_requests_of_many_cases_are_one_class_and_tie_in_case_order() {
        let mut entries = Vec::new();
        for case in 0..1000 {
            let mut e = entry(case, &[("Action", lit("Op")), ("S", lit("s"))], Creds::Own);
            e.free.push((1, FreeCheck::new(None, None, None)));
            entries.push(e);
        }
        // One case names its own session: a request naming it is that case alone.
        entries[500].params[1].1 = lit("mine");
        let index = Index::new(&entries);
        let group = index
            .group(&request("Action=Op&S=s", true).params())
            .unwrap();
        assert_eq!(group.classes.len(), 1);
        let r = replay(entries);
        let find = |body: &str| {
            let req = request(body, true);
            let params = req.params();
            outcome(r.find(&req, &params, &signer(&req)), &r).unwrap()
        };
        let (at, _, replaced, tied) = find("Action=Op&S=mine");
        assert_eq!((at, replaced, tied), (500, vec![], vec![500]));
        let (at, _, replaced, tied) = find("Action=Op&S=s");
        assert_eq!((at, replaced.len(), tied.len()), (0, 0, 999));
        let (at, _, replaced, tied) = find("Action=Op&S=other");
        assert_eq!(at, 0);
        assert_eq!(replaced, [("s".to_owned(), "other".to_owned())]);
        assert_eq!(tied, (0..1000).collect::<Vec<_>>());
    }
}
