//! The replay side: answers requests the way the recorded service did, from the snapshots.
//!
//! Every checked step of every case becomes an expected request (its decoded parameters,
//! variables of the run left open and bound from what arrives) with the answer its snapshot
//! holds. A request is matched on its decoded, sorted parameters; placeholders in the answer
//! are turned back into plausible values (fresh request ids, `ASIA` keys, expirations from
//! now). Keys handed out are remembered, so the later steps of a flow match by the
//! credentials that sign them. Setup and cleanup steps get generic answers. Anything else
//! gets a loud error that names the closest cases.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;
use std::time::SystemTime;

use regex::Regex;

use crate::query;
use crate::redact::Rules;
use crate::scenario::{Case, CredentialsSpec, Request, Role, Step};
use crate::suite::Suite;
use crate::template::Vars;

/// The code of the error a request that no scenario expects gets.
pub const NO_MATCH_CODE: &str = "ConformNoMatchingScenario";
/// The code of the error a request that breaks the protocol an SDK must follow gets.
pub const REJECTED_CODE: &str = "ConformRequestRejected";

/// A request as it arrived.
#[derive(Debug, Clone, Default)]
pub struct Incoming {
    pub method: String,
    pub query: Option<String>,
    /// Names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Incoming {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The access key the request is signed with, from its Authorization header.
    fn access_key(&self) -> Option<&str> {
        self.header("authorization")?
            .split("Credential=")
            .nth(1)?
            .split('/')
            .next()
    }

    /// The service of the SigV4 credential scope.
    fn signed_for(&self) -> Option<&str> {
        self.header("authorization")?
            .split("Credential=")
            .nth(1)?
            .split('/')
            .nth(3)
    }

    /// Whether the request's signature was made with this key and secret.
    fn signed_with(&self, key: &str, secret: &str) -> bool {
        let host = self.header("host").unwrap_or("localhost");
        let url = match &self.query {
            Some(q) => format!("http://{host}/?{q}"),
            None => format!("http://{host}/"),
        };
        let creds = crate::sign::Credentials {
            access_key_id: key.to_owned(),
            secret_access_key: secret.to_owned(),
            session_token: self.header("x-amz-security-token").map(str::to_owned),
        };
        let req = crate::transport::HttpRequest {
            method: self.method.clone(),
            url,
            headers: self.headers.clone(),
            body: self.body.clone(),
        };
        crate::sign::verify(&creds, &req)
    }

    /// Decoded parameters of the body and the query string, sorted. Public for the fuzz
    /// target of the request decoder.
    pub fn params(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> =
            form_urlencoded::parse(&self.body).into_owned().collect();
        if let Some(q) = &self.query {
            out.extend(form_urlencoded::parse(q.as_bytes()).into_owned());
        }
        out.sort();
        out
    }
}

/// What the replay server answers.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: String,
}

#[derive(Debug, Clone)]
enum Value {
    Literal(String),
    /// A value with run variables in it; the regex binds them (group `v0` is `vars[0]`).
    Open {
        /// None when the whole value is the one variable.
        re: Option<Regex>,
        vars: Vec<String>,
    },
}

#[derive(Debug, Clone)]
enum Creds {
    /// The client's own keys (any key this server did not hand out).
    Own,
    Unsigned,
    /// Keys this server handed out earlier in the same case.
    Issued,
    /// A fixed key (a declared variable, a made-up one). With its secret, the signature
    /// tells this request from one signed by the client's own key.
    Key(String, Option<String>),
}

#[derive(Debug, Clone)]
struct Answer {
    status: u16,
    content_type: Option<String>,
    body: String,
}

impl Answer {
    fn succeeded(&self) -> bool {
        (200..300).contains(&self.status)
    }

    fn has_code(&self, code: &str) -> bool {
        self.body.contains(&format!("<Code>{code}</Code>"))
    }
}

/// The free-parameter checks built so far, by service, operation and member: a pattern is
/// compiled once, not once per case.
#[derive(Default)]
struct FreeChecks(HashMap<(String, String, String), FreeCheck>);

impl FreeChecks {
    fn of(
        &mut self,
        model: &crate::model::Model,
        op: &crate::model::Operation,
        service: &str,
        member: &str,
    ) -> FreeCheck {
        self.0
            .entry((service.to_owned(), op.name.clone(), member.to_owned()))
            .or_insert_with(|| FreeCheck::of(model, op, member))
            .clone()
    }
}

/// What the model allows for a parameter a client names freely: its length and pattern.
#[derive(Debug, Clone)]
struct FreeCheck {
    min: Option<usize>,
    max: Option<usize>,
    pattern: Option<Regex>,
}

impl FreeCheck {
    fn of(model: &crate::model::Model, op: &crate::model::Operation, member: &str) -> FreeCheck {
        let shape = model.input_members(op).and_then(|s| match &s.kind {
            crate::model::ShapeKind::Structure { members, .. } => members.get(member),
            _ => None,
        });
        let Some(m) = shape else {
            return FreeCheck {
                min: None,
                max: None,
                pattern: None,
            };
        };
        let shape = model.shape(&m.shape);
        // The model's `\w` is ASCII, as AWS checks it; Unicode `\w` would let `é` through.
        let pattern = shape.pattern.as_ref().and_then(|p| {
            Regex::new(&format!("(?-u:^(?:{p})$)"))
                .or_else(|_| Regex::new(&format!("^(?:{p})$")))
                .ok()
        });
        FreeCheck {
            min: shape.min.map(|n| n as usize),
            max: shape.max.map(|n| n as usize),
            pattern,
        }
    }

    fn allows(&self, v: &str) -> bool {
        let n = v.chars().count();
        self.min.is_none_or(|m| n >= m)
            && self.max.is_none_or(|m| n <= m)
            && self.pattern.as_ref().is_none_or(|p| p.is_match(v))
    }
}

#[derive(Debug, Clone)]
struct Entry {
    case: usize,
    role: Role,
    test_name: String,
    params: Vec<(String, Value)>,
    creds: Creds,
    /// The service a signed request must be scoped to; None for unsigned or raw requests.
    service: Option<String>,
    raw: bool,
    /// The Content-Type a raw step sends (a form for anything else).
    content_type: Option<String>,
    answer: Option<Answer>,
    /// Open variables a client chooses: a value must have the variable's shape, and sets
    /// the variables the shape derives.
    chosen: Vec<String>,
    /// Parameters (by index) a client may name freely in this case, because it succeeds and
    /// its answer repeats them.
    free: Vec<(usize, FreeCheck)>,
    /// The case is a documented example: among free matches it is preferred.
    doc: bool,
    /// For a step signed with keys an earlier step of its case handed out: that step's
    /// operation (what kind of session the keys stand for).
    issuer_op: Option<String>,
}

impl Entry {
    /// A raw step's own Content-Type must be the one that came; other entries take forms.
    fn accepts_content_type(&self, req: &Incoming) -> bool {
        let got = req.header("content-type").unwrap_or("");
        let main = |ct: &str| {
            ct.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        };
        match &self.content_type {
            Some(want) => main(want) == main(got),
            None => {
                req.body.is_empty() || main(got) == "application/x-www-form-urlencoded" || !self.raw
            }
        }
    }

    fn action(&self) -> Option<&str> {
        self.params.iter().find_map(|(k, v)| match v {
            Value::Literal(l) if k == "Action" => Some(l.as_str()),
            _ => None,
        })
    }

    /// What credentials the case signs this step with, for a miss that explains.
    fn wants(&self) -> String {
        match &self.creds {
            Creds::Own => "the client's own keys".into(),
            Creds::Unsigned => "no signature".into(),
            Creds::Issued => "the keys an earlier step of its case handed out".into(),
            Creds::Key(k, _) => format!("the key {k}"),
        }
    }
}

/// What a request bound: variables (captures, the run id, values a client chose, what
/// those derive) and values it named in place of a case's own.
#[derive(Debug, Clone, Default)]
struct Binding {
    vars: HashMap<String, String>,
    /// A case's literal (the session it names) and the value the client sent instead.
    replaced: Vec<(String, String)>,
}

impl Binding {
    /// `other` over `self`.
    fn merged(&self, other: &Binding) -> Binding {
        let mut out = self.clone();
        out.vars
            .extend(other.vars.iter().map(|(k, v)| (k.clone(), v.clone())));
        out.replaced.extend(other.replaced.iter().cloned());
        out
    }
}

/// Who a set of keys this server handed out stands for.
#[derive(Debug, Clone)]
struct Identity {
    /// The operation that handed them out.
    op: String,
    arn: String,
    user_id: String,
    account: String,
    expires: Option<time::OffsetDateTime>,
    /// What the request that got them bound: later steps signed with them answer the same.
    binding: Binding,
    /// Cases whose flows may continue with them (cases whose first steps are the same
    /// request all own the keys it handed out).
    cases: Vec<usize>,
}

/// How many run ids the server remembers (one per client run it serves at once).
const RUN_IDS: usize = 64;

/// How many handed-out keys the server remembers. A whole run of the corpus hands out a few
/// hundred, each used within seconds of being issued, and an entry costs about a kilobyte:
/// 4,096 covers many runs at once in a few megabytes, however long the server lives.
const IDENTITIES: usize = 4096;

/// How many messages of unmatched requests the server keeps for its report (all are
/// counted, and each is told to the observer as it happens).
const UNMATCHED_KEPT: usize = 100;

/// Keys handed out, with who they stand for, at most `IDENTITIES` of them.
#[derive(Default)]
struct Issued {
    by_key: HashMap<String, Identity>,
    /// Keys in the order they were handed out, the oldest first.
    order: std::collections::VecDeque<String>,
}

impl Issued {
    fn get(&self, key: &str) -> Option<&Identity> {
        self.by_key.get(key)
    }

    fn insert(&mut self, key: String, id: Identity, now: time::OffsetDateTime) {
        if self.by_key.len() >= IDENTITIES {
            self.make_room(now);
        }
        if self.by_key.insert(key.clone(), id).is_none() {
            self.order.push_back(key);
        }
    }

    /// Ended sessions go first (a client gets ExpiredToken for them only as long as there
    /// is room), then the oldest, down to seven eighths of the cap: the whole-map passes
    /// then happen once per eighth of the cap of new keys, not once per key.
    fn make_room(&mut self, now: time::OffsetDateTime) {
        self.by_key
            .retain(|_, id| id.expires.is_none_or(|t| t > now));
        let keep = IDENTITIES - IDENTITIES / 8;
        while self.by_key.len() > keep {
            let Some(k) = self.order.pop_front() else {
                break;
            };
            self.by_key.remove(&k);
        }
        self.order.retain(|k| self.by_key.contains_key(k));
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.by_key.len()
    }
}

#[derive(Default)]
struct State {
    /// Access keys handed out, with who they stand for.
    identities: Issued,
    requested: HashSet<String>,
    /// The first `UNMATCHED_KEPT` messages, and how many there were in all.
    unmatched: Vec<String>,
    unmatched_count: usize,
    counter: u64,
    /// Numbered values (role ids, keys) stay the same across the steps of a case, as the
    /// same role's id does in AWS.
    stable: HashMap<(usize, String), String>,
    /// Run ids the clients' requests carried, the newest last: an answer that names a run
    /// id its own request does not carry takes one of these, not the server's.
    run_ids: Vec<String>,
}

/// Told about every request the replay could not answer from a scenario.
pub type Observer = Box<dyn Fn(&str) + Send + Sync>;

pub struct Replay {
    entries: Vec<Entry>,
    /// Entries by their parameter names: a request is only compared with those.
    by_names: HashMap<String, Vec<usize>>,
    observer: Option<Observer>,
    vars: Vars,
    /// Placeholder name to the variable whose value it stands for.
    placeholder_vars: HashMap<String, String>,
    /// Variables a client chooses, with their shapes.
    chosen: BTreeMap<String, crate::suite::ClientChosen>,
    /// Keys that are the client's own whatever they look like (a run's own temporary keys).
    trusted: Mutex<HashSet<String>>,
    /// How far the server's clock runs ahead of the wall clock (`advance`).
    ahead: Mutex<std::time::Duration>,
    state: Mutex<State>,
}

/// What a run of the server saw, for its report at shutdown.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub never_requested: Vec<String>,
    /// The messages of the first unmatched requests (a hundred at most).
    pub unmatched: Vec<String>,
    /// How many requests matched no scenario in all.
    pub unmatched_count: usize,
}

const OPEN: char = '\u{E000}';
const CLOSE: char = '\u{E001}';

/// Whether a chosen value has its variable's shape, by variable and value, within one
/// request (a handful at most: a list).
type Shapes = Vec<(String, String, bool)>;

/// One entry compared with a request. What it binds borrows from the entry and the request:
/// only the entry that answers turns it into a `Binding`.
struct Compared<'a> {
    /// Parameters that matched literally.
    exact: usize,
    /// Variables bound, by name.
    vars: Vec<(&'a str, &'a str)>,
    /// A case's literal and the value named in its place.
    replaced: Vec<(&'a str, &'a str)>,
    /// What differs, in words when asked to explain (else empty words, one per miss: words
    /// cost, and only the closest misses are ever shown).
    misses: Vec<String>,
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

impl Replay {
    /// The replay of every case of the suite that has a snapshot. `vars` are the values the
    /// server stands for (account id, role names); variables that change per run (captures,
    /// the run id) and those a client chooses (the role it assumes) are bound from requests.
    pub fn from_suite(suite: &Suite, vars: Vars) -> Replay {
        let mut vars = vars;
        for (k, v) in suite.default_vars() {
            vars.entry(k.clone()).or_insert_with(|| v.clone());
        }
        let mut placeholder_vars = HashMap::new();
        for rules in suite.rules.values() {
            placeholder_vars.extend(placeholders_of(rules));
        }
        let mut entries = Vec::new();
        let mut checks = FreeChecks::default();
        for (ci, case) in suite.cases.iter().enumerate() {
            // What a case requires of a real target (a disabled region) a replay cannot be.
            if !case.requires.is_empty() {
                continue;
            }
            let Some(snapshot) = suite.snapshots.expected(case) else {
                continue;
            };
            let mut answers = parse_transcript(snapshot).into_iter();
            let captured: Vec<&str> = case
                .steps
                .iter()
                .flat_map(|s| s.captures.iter().map(|c| c.variable.as_str()))
                .collect();
            for step in &case.steps {
                let answer = match step.role {
                    Role::Check => answers.next(),
                    _ => None,
                };
                if step.role == Role::Check && answer.is_none() {
                    break;
                }
                if let Some(entry) =
                    entry_for(suite, case, ci, step, answer, &vars, &captured, &mut checks)
                {
                    entries.push(entry);
                }
            }
        }
        let mut by_names: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, e) in entries.iter().enumerate() {
            by_names
                .entry(names_key(e.params.iter().map(|(k, _)| k.as_str())))
                .or_default()
                .push(i);
        }
        Replay {
            entries,
            by_names,
            observer: None,
            vars,
            placeholder_vars,
            chosen: suite.client_chosen.clone(),
            trusted: Mutex::new(HashSet::new()),
            ahead: Mutex::new(std::time::Duration::ZERO),
            state: Mutex::new(State::default()),
        }
    }

    /// Calls `f` with the message of every request no scenario expects (for a log).
    pub fn on_unmatched(&mut self, f: Observer) {
        self.observer = Some(f);
    }

    /// Takes `access_key_id` as the client's own even with a session token: a run that
    /// signs with temporary keys of its own is no stranger with unknown credentials.
    pub fn trust_key(&self, access_key_id: &str) {
        self.trusted
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(access_key_id.to_owned());
    }

    /// Moves the server's clock forward: sessions it handed out expire as they would that
    /// much later (for tests of what a client does with expired credentials).
    pub fn advance(&self, by: std::time::Duration) {
        *self.ahead.lock().unwrap_or_else(|e| e.into_inner()) += by;
    }

    /// The server's now: the wall clock, plus any `advance`.
    fn now(&self) -> time::OffsetDateTime {
        time::OffsetDateTime::now_utc() + *self.ahead.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The answer to one request.
    pub fn answer(&self, req: &Incoming) -> Reply {
        let params = req.params();
        let key = req.access_key().map(str::to_owned);
        let identity = key
            .as_deref()
            .and_then(|k| self.lock().identities.get(k).cloned());
        if let Some(id) = &identity
            && id.expires.is_some_and(|t| t <= self.now())
        {
            // AWS refuses keys whose session has ended, whatever they ask.
            if let Some(reply) = self.coded_answer(&params, "ExpiredToken", &id.binding) {
                return reply;
            }
        }
        // Temporary keys this server never handed out (nor was told are the client's):
        // stale credentials, which AWS does not know either.
        let stranger = identity.is_none()
            && req.header("x-amz-security-token").is_some()
            && key.as_deref().is_some_and(|k| {
                !self
                    .trusted
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .contains(k)
            });
        let issued_to = |case: usize| identity.as_ref().is_some_and(|i| i.cases.contains(&case));
        let mut best: Option<(usize, &Entry, Binding)> = None;
        let mut tied: Vec<usize> = Vec::new();
        let mut near: Vec<(usize, &Entry, Vec<String>)> = Vec::new();
        // A chosen value is checked against its shape once per request, not once per case.
        let mut shapes = Shapes::new();
        for e in self.entries_named(&params) {
            let Some(c) = self.compare(e, &params, &mut shapes, false) else {
                continue;
            };
            if !c.misses.is_empty() {
                near.push((c.misses.len(), e, c.misses));
                continue;
            }
            let creds_ok = match &e.creds {
                Creds::Own => key.is_some() && identity.is_none() && !stranger,
                Creds::Unsigned => key.is_none(),
                Creds::Issued => issued_to(e.case),
                Creds::Key(k, secret) => {
                    key.as_deref() == Some(k.as_str())
                        && secret.as_ref().is_none_or(|s| req.signed_with(k, s))
                }
            };
            // Same parameters, other credentials or body type: the closest there is.
            if !creds_ok || !e.accepts_content_type(req) {
                let why = if creds_ok {
                    "the same parameters, but another Content-Type".to_owned()
                } else {
                    format!(
                        "the same parameters, but the case signs this step with {}",
                        e.wants()
                    )
                };
                near.push((0, e, vec![why]));
                continue;
            }
            // Prefer the most literal match; among equals, named keys, then the case the
            // handed-out keys belong to, then a documented example. The first of equals
            // wins, so the same request always gets the same case.
            let score = c.exact * 16
                + 8 * usize::from(matches!(e.creds, Creds::Key(..)))
                + 4 * usize::from(issued_to(e.case))
                + 2 * usize::from(e.raw && e.content_type.is_some())
                + usize::from(e.doc);
            match &best {
                Some((s, _, _)) if score < *s => {}
                Some((s, _, _)) if score == *s => tied.push(e.case),
                _ => {
                    tied = vec![e.case];
                    best = Some((score, e, c.binding()));
                }
            }
        }
        let Some((_, entry, binding)) = best else {
            if let Some(id) = &identity
                && let Some(reply) = self.session_answer(&params, id)
            {
                return reply;
            }
            if stranger
                && let Some(reply) =
                    self.coded_answer(&params, "InvalidClientTokenId", &Binding::default())
            {
                return reply;
            }
            if near.is_empty() {
                // Nothing with these parameter names: look for what comes closest by action.
                let action = params
                    .iter()
                    .find(|(k, _)| k == "Action")
                    .map(|(_, v)| v.as_str());
                near = self
                    .entries
                    .iter()
                    .filter(|e| e.action().is_some() && e.action() == action)
                    .map(|e| {
                        (
                            e.params.len().abs_diff(params.len()) + 1,
                            e,
                            names_differ(&e.params, &params),
                        )
                    })
                    .collect();
            }
            return self.no_match(&params, near);
        };
        if let Some(problem) = self.verify(entry, req) {
            return self.rejected(&entry.test_name, &problem);
        }
        // What the values a client chose derive (the role's name and account).
        let mut binding = binding;
        for name in &entry.chosen {
            if let (Some(shape), Some(v)) = (self.chosen.get(name), binding.vars.get(name))
                && let Some(derived) = shape.bind(name, &v.clone())
            {
                binding.vars.extend(derived);
            }
        }
        // A later step signed with handed-out keys answers for the same role and session.
        let binding = match identity.as_ref().filter(|_| issued_to(entry.case)) {
            Some(id) => id.binding.merged(&binding),
            None => binding,
        };
        {
            let mut st = self.lock();
            st.requested.insert(entry.test_name.clone());
            if let Some(run_id) = binding.vars.get("run_id")
                && !st.run_ids.contains(run_id)
            {
                st.run_ids.push(run_id.clone());
                if st.run_ids.len() > RUN_IDS {
                    st.run_ids.remove(0);
                }
            }
        }
        let op = entry.action().unwrap_or_default();
        match &entry.answer {
            Some(a) => Reply {
                status: a.status,
                content_type: a.content_type.clone(),
                body: self.render(&a.body, &binding, entry.case, &tied, op),
            },
            None => self.generic(entry, &params, &binding, &tied),
        }
    }

    /// One entry against a request's decoded, sorted parameters: None when the parameter
    /// names differ.
    fn compare<'a>(
        &self,
        e: &'a Entry,
        got: &'a [(String, String)],
        shapes: &mut Shapes,
        explain: bool,
    ) -> Option<Compared<'a>> {
        if e.params.len() != got.len() || e.params.iter().zip(got).any(|((a, _), (b, _))| a != b) {
            return None;
        }
        let mut c = Compared {
            exact: 0,
            vars: Vec::new(),
            replaced: Vec::new(),
            misses: Vec::new(),
        };
        for (i, ((k, want), (_, have))) in e.params.iter().zip(got).enumerate() {
            match want {
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
                                    let fits = shape.shape.is_match(v);
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

    /// A literal that differs, in words: what the case expects and, when that value is one
    /// the server stands for, the `--var` that would make it the client's.
    fn literal_miss(&self, k: &str, want: &str, have: &str) -> String {
        let mut s = format!("{k} is `{}`, the case expects `{}`", clip(have), clip(want));
        if let Some((name, _)) = self
            .vars
            .iter()
            .filter(|(n, v)| !v.is_empty() && v.as_str() == want && n.as_str() != "run_id")
            .min_by_key(|(n, _)| n.as_str())
        {
            s.push_str(&format!(
                " (the server's {name}; start it with --var {name}={} to stand for yours)",
                clip(have)
            ));
        }
        s
    }

    /// Which cases were never asked for, and which requests matched nothing.
    pub fn report(&self) -> Report {
        let st = self.lock();
        let mut never: Vec<String> = self
            .entries
            .iter()
            .filter(|e| e.role == Role::Check && !st.requested.contains(&e.test_name))
            .map(|e| e.test_name.clone())
            .collect();
        never.dedup();
        Report {
            never_requested: never,
            unmatched: st.unmatched.clone(),
            unmatched_count: st.unmatched_count,
        }
    }

    fn note(&self, msg: &str) {
        {
            let mut st = self.lock();
            st.unmatched_count += 1;
            if st.unmatched.len() < UNMATCHED_KEPT {
                st.unmatched.push(msg.to_owned());
            }
        }
        if let Some(f) = &self.observer {
            f(msg);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What an SDK must send: a signature scoped to the right service for a signed
    /// operation and none for an unsigned one, a form Content-Type, and the Version.
    fn verify(&self, e: &Entry, req: &Incoming) -> Option<String> {
        if e.raw {
            return None;
        }
        if let Some(service) = &e.service {
            match req.signed_for() {
                None => return Some(
                    "the operation is signed, but the request has no SigV4 Authorization header"
                        .into(),
                ),
                Some(s) if s != service => {
                    return Some(format!(
                        "the signature is scoped to `{s}`, the operation belongs to `{service}`"
                    ));
                }
                _ => {}
            }
        }
        let ct = req.header("content-type").unwrap_or("");
        if !req.body.is_empty() && !ct.starts_with("application/x-www-form-urlencoded") {
            return Some(format!(
                "Content-Type is `{ct}`, not application/x-www-form-urlencoded"
            ));
        }
        None
    }

    fn rejected(&self, case: &str, problem: &str) -> Reply {
        let msg = format!("The request matches {case}, but {problem}.");
        self.note(&msg);
        error_reply(400, REJECTED_CODE, &msg)
    }

    fn no_match(
        &self,
        params: &[(String, String)],
        mut near: Vec<(usize, &Entry, Vec<String>)>,
    ) -> Reply {
        // The fewest differences first; among equals a documented example, the likeliest
        // to be what the client meant.
        near.sort_by_key(|(m, e, _)| (*m, !e.doc, e.test_name.clone()));
        near.dedup_by(|a, b| a.1.test_name == b.1.test_name);
        near.truncate(3);
        // The closest ones, now in words.
        let mut shapes = Shapes::new();
        for (_, e, why) in &mut near {
            if why.iter().all(String::is_empty)
                && let Some(c) = self.compare(e, params, &mut shapes, true)
            {
                *why = c.misses;
            }
        }
        let action = params
            .iter()
            .find(|(k, _)| k == "Action")
            .map_or("(no Action)", |(_, v)| v.as_str());
        let mut msg = format!(
            "No scenario expects this {action} request ({} parameters).",
            params.len()
        );
        if near.is_empty() {
            msg.push_str(" No case sends this action; `conform list` shows the cases.");
        } else {
            msg.push_str(" Closest: ");
            let list: Vec<String> = near
                .iter()
                .take(3)
                .map(|(_, e, why)| format!("{} ({})", e.test_name, why.join("; ")))
                .collect();
            msg.push_str(&list.join(" | "));
            msg.push_str(". A case that sends this request, with its snapshot, makes it match.");
        }
        self.note(&msg);
        error_reply(400, NO_MATCH_CODE, &msg)
    }

    /// The steps whose requests carry exactly these parameter names: the only ones a
    /// request can match.
    fn entries_named<'a>(&'a self, params: &[(String, String)]) -> impl Iterator<Item = &'a Entry> {
        self.by_names
            .get(&names_key(params.iter().map(|(k, _)| k.as_str())))
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .map(|&i| &self.entries[i])
    }

    /// The answer a case with these parameter names gives with this error code (an expired
    /// or unknown key), from its snapshot.
    fn coded_answer(
        &self,
        params: &[(String, String)],
        code: &str,
        binding: &Binding,
    ) -> Option<Reply> {
        let e = self
            .entries_named(params)
            .find(|e| e.answer.as_ref().is_some_and(|a| a.has_code(code)))?;
        let a = e.answer.as_ref()?;
        self.lock().requested.insert(e.test_name.clone());
        Some(Reply {
            status: a.status,
            content_type: a.content_type.clone(),
            body: self.render(&a.body, binding, e.case, &[], ""),
        })
    }

    /// GetCallerIdentity signed with keys this server handed out, when no flow of their own
    /// case covers it: the answer of a flow that calls as its session, naming this session.
    fn session_answer(&self, params: &[(String, String)], id: &Identity) -> Option<Reply> {
        let action = params
            .iter()
            .find(|(k, _)| k == "Action")
            .map(|(_, v)| v.as_str());
        if action != Some("GetCallerIdentity") {
            return None;
        }
        let e = self
            .entries_named(params)
            .filter(|e| e.issuer_op.is_some() && e.answer.as_ref().is_some_and(Answer::succeeded))
            .min_by_key(|e| (e.issuer_op.as_deref() != Some(id.op.as_str()), e.case))?;
        let a = e.answer.as_ref()?;
        let mut body = a.body.clone();
        for (element, value) in [
            ("Arn", &id.arn),
            ("UserId", &id.user_id),
            ("Account", &id.account),
        ] {
            body = set_text(&body, element, value);
        }
        self.lock().requested.insert(e.test_name.clone());
        Some(Reply {
            status: a.status,
            content_type: a.content_type.clone(),
            body: self.render(&body, &id.binding, e.case, &[], "GetCallerIdentity"),
        })
    }

    /// A stored answer with its placeholders turned back into values. Keys it hands out
    /// are remembered with who they stand for (`op` is the operation that asked).
    fn render(
        &self,
        body: &str,
        binding: &Binding,
        case: usize,
        owners: &[usize],
        op: &str,
    ) -> String {
        static PLACEHOLDER: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
        let re = PLACEHOLDER.get_or_init(|| {
            Regex::new(r"\[([a-z][a-z0-9-]*)((?::[^\]\s]*)?)\]").expect("a valid regex")
        });
        let mut body = body.to_owned();
        for (literal, value) in &binding.replaced {
            body = replace_named(&body, literal, &escape(value));
        }
        let mut numbered: HashMap<String, String> = HashMap::new();
        let mut st = self.lock();
        st.counter += 1;
        let seed = st.counter;
        let mut issued = Vec::new();
        let run_id = || -> Option<String> {
            // The run id an answer names: its request's, else one that a value it bound
            // carries, else the newest a client sent.
            if let Some(r) = binding.vars.get("run_id") {
                return Some(r.clone());
            }
            st.run_ids
                .iter()
                .rev()
                .find(|r| binding.vars.values().any(|v| v.contains(r.as_str())))
                .or(st.run_ids.last())
                .cloned()
        };
        let run_id = run_id();
        let out = re
            .replace_all(&body, |c: &regex::Captures<'_>| {
                let name = &c[1];
                let arg = c.get(2).map_or("", |m| m.as_str()).trim_start_matches(':');
                if let Some(var) = self.placeholder_vars.get(name) {
                    if var == "run_id"
                        && let Some(r) = &run_id
                    {
                        return escape(r);
                    }
                    return binding
                        .vars
                        .get(var)
                        .or_else(|| self.vars.get(var))
                        .map(|v| escape(v))
                        .unwrap_or_else(|| c[0].to_owned());
                }
                let key = format!("{name}:{arg}");
                if let Some(v) = numbered.get(&key) {
                    return v.clone();
                }
                let stable = matches!(name, "role-id" | "user-id" | "key-account-id");
                if stable && let Some(v) = st.stable.get(&(case, key.clone())) {
                    return v.clone();
                }
                let v = match name {
                    "request-id" => uuid(seed),
                    "access-key-id" => {
                        let prefix = arg
                            .split(':')
                            .next()
                            .filter(|p| p.len() == 4)
                            .unwrap_or("ASIA");
                        let k = format!("{prefix}{}", chars(&format!("{seed}{key}"), 16, UPPER));
                        issued.push(k.clone());
                        k
                    }
                    "secret-access-key" => {
                        let n = arg
                            .split(':')
                            .find_map(|p| p.strip_suffix("-chars").and_then(|n| n.parse().ok()))
                            .unwrap_or(40);
                        chars(&format!("s{seed}{key}"), n, BASE64)
                    }
                    "session-token" => format!(
                        "IQoJb3JpZ2luX2Vj{}",
                        chars(&format!("t{seed}"), 300, BASE64)
                    ),
                    "expiration" => expiration(arg),
                    "role-id" => format!("AROA{}", chars(&key, 17, UPPER)),
                    "user-id" => format!("AIDA{}", chars(&key, 17, UPPER)),
                    "key-account-id" => "111122223333".to_owned(),
                    "packed-policy-size" => "6".to_owned(),
                    "packed-percent" => "112".to_owned(),
                    "unix-time" => {
                        let now = SystemTime::now()
                            .duration_since(SystemTime::UNIX_EPOCH)
                            .map_or(0, |d| d.as_secs());
                        // The first is "now", later ones are earlier (an expiry that passed).
                        let n: u64 = arg.parse().unwrap_or(1);
                        (now - 3600 * (n - 1).min(10)).to_string()
                    }
                    "web-identity-token" => format!(
                        "{}.{}.{}",
                        chars("h", 36, URL64),
                        chars(&format!("p{seed}"), 120, URL64),
                        chars("s", 86, URL64)
                    ),
                    "decoded-message" => "{\"allowed\":false,\"explicitDeny\":false}".to_owned(),
                    _ => c[0].to_owned(),
                };
                if stable {
                    st.stable.insert((case, key.clone()), v.clone());
                }
                numbered.insert(key, v.clone());
                v
            })
            .into_owned();
        if !issued.is_empty() {
            let (arn, user_id, account, expires) = self.who(&out, binding);
            let now = self.now();
            for k in issued {
                st.identities.insert(
                    k,
                    Identity {
                        op: op.to_owned(),
                        arn: arn.clone(),
                        user_id: user_id.clone(),
                        account: account.clone(),
                        expires,
                        binding: binding.clone(),
                        cases: owners.to_vec(),
                    },
                    now,
                );
            }
        }
        out
    }

    /// Who the keys in a rendered answer stand for: its assumed-role or federated user, or
    /// (GetSessionToken) the caller itself; and when they expire.
    fn who(
        &self,
        answer: &str,
        binding: &Binding,
    ) -> (String, String, String, Option<time::OffsetDateTime>) {
        let text = |name: &str| {
            answer
                .split(&format!("<{name}>"))
                .nth(1)
                .and_then(|r| r.split('<').next())
                .map(unescape)
        };
        let var = |n: &str| {
            binding
                .vars
                .get(n)
                .or_else(|| self.vars.get(n))
                .cloned()
                .unwrap_or_default()
        };
        let user = answer
            .split("<AssumedRoleUser>")
            .nth(1)
            .or_else(|| answer.split("<FederatedUser>").nth(1));
        let (arn, user_id) = match user {
            Some(u) => {
                let inner = |name: &str| {
                    u.split(&format!("<{name}>"))
                        .nth(1)
                        .and_then(|r| r.split('<').next())
                        .map(unescape)
                        .unwrap_or_default()
                };
                let id = inner("AssumedRoleId");
                let id = if id.is_empty() {
                    inner("FederatedUserId")
                } else {
                    id
                };
                (inner("Arn"), id)
            }
            None => (var("caller_arn"), var("caller_user_id")),
        };
        // The account is the one the ARN names (a role of another account, assumed).
        let account = arn
            .split(':')
            .nth(4)
            .filter(|a| !a.is_empty())
            .map_or_else(|| var("account_id"), str::to_owned);
        let expires = text("Expiration").and_then(|t| {
            time::OffsetDateTime::parse(&t, &time::format_description::well_known::Rfc3339).ok()
        });
        (arn, user_id, account, expires)
    }

    /// Setup and cleanup steps: enough of IAM and STS for what they create and capture.
    fn generic(
        &self,
        e: &Entry,
        params: &[(String, String)],
        binding: &Binding,
        owners: &[usize],
    ) -> Reply {
        let get = |k: &str| {
            params
                .iter()
                .find(|(n, _)| n == k)
                .map_or("", |(_, v)| v.as_str())
        };
        let account = self.vars.get("account_id").cloned().unwrap_or_default();
        let action = get("Action");
        let ns_iam = "https://iam.amazonaws.com/doc/2010-05-08/";
        let ns_sts = "https://sts.amazonaws.com/doc/2011-06-15/";
        let ok = |op: &str, ns: &str, result: &str| {
            let inner = if result.is_empty() {
                String::new()
            } else {
                format!("<{op}Result>{result}</{op}Result>")
            };
            format!(
                "<{op}Response xmlns=\"{ns}\">{inner}<ResponseMetadata><RequestId>[request-id]</RequestId></ResponseMetadata></{op}Response>"
            )
        };
        let body = match action {
            "CreateRole" => {
                let name = escape(get("RoleName"));
                ok(
                    action,
                    ns_iam,
                    &format!(
                        "<Role><Path>/</Path><RoleName>{name}</RoleName><RoleId>[role-id:9]</RoleId><Arn>arn:aws:iam::{account}:role/{name}</Arn><CreateDate>2026-01-01T00:00:00Z</CreateDate></Role>"
                    ),
                )
            }
            "CreateOpenIDConnectProvider" => {
                let host = get("Url").trim_start_matches("https://").to_owned();
                ok(
                    action,
                    ns_iam,
                    &format!(
                        "<OpenIDConnectProviderArn>arn:aws:iam::{account}:oidc-provider/{}</OpenIDConnectProviderArn>",
                        escape(&host)
                    ),
                )
            }
            "CreateSAMLProvider" => ok(
                action,
                ns_iam,
                &format!(
                    "<SAMLProviderArn>arn:aws:iam::{account}:saml-provider/{}</SAMLProviderArn>",
                    escape(get("Name"))
                ),
            ),
            "AssumeRole" => {
                let role = get("RoleArn").rsplit('/').next().unwrap_or("").to_owned();
                let session = escape(get("RoleSessionName"));
                let secs = get("DurationSeconds").parse::<i64>().unwrap_or(3600);
                ok(
                    action,
                    ns_sts,
                    &format!(
                        "<AssumedRoleUser><Arn>arn:aws:sts::{account}:assumed-role/{role}/{session}</Arn><AssumedRoleId>[role-id:9]:{session}</AssumedRoleId></AssumedRoleUser><Credentials><AccessKeyId>[access-key-id:ASIA:9]</AccessKeyId><SecretAccessKey>[secret-access-key]</SecretAccessKey><SessionToken>[session-token]</SessionToken><Expiration>[expiration:+{secs}s]</Expiration></Credentials>"
                    ),
                )
            }
            a if a.starts_with("Delete")
                || a.starts_with("Put")
                || a.starts_with("Attach")
                || a.starts_with("Detach") =>
            {
                ok(
                    action,
                    if e.service.as_deref() == Some("sts") {
                        ns_sts
                    } else {
                        ns_iam
                    },
                    "",
                )
            }
            _ => {
                return error_reply(
                    400,
                    NO_MATCH_CODE,
                    &format!(
                        "{} has a setup or cleanup step ({action}) the replay server cannot answer.",
                        e.test_name
                    ),
                );
            }
        };
        Reply {
            status: 200,
            content_type: Some("text/xml".into()),
            body: self.render(&body, binding, e.case, owners, get("Action")),
        }
    }
}

fn names_key<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let mut key = String::new();
    for n in names {
        key.push_str(n);
        key.push('&');
    }
    key
}

fn error_reply(status: u16, code: &str, message: &str) -> Reply {
    Reply {
        status,
        content_type: Some("text/xml".into()),
        body: format!(
            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
            escape(message),
            uuid(0)
        ),
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Placeholders that stand for a variable's value, from a service's rules.
fn placeholders_of(rules: &Rules) -> Vec<(String, String)> {
    rules.variable_placeholders()
}

#[allow(clippy::too_many_arguments)]
fn entry_for(
    suite: &Suite,
    case: &Case,
    ci: usize,
    step: &Step,
    answer: Option<Answer>,
    vars: &Vars,
    captured: &[&str],
    checks: &mut FreeChecks,
) -> Option<Entry> {
    // Render with the server's values, but leave open what the client decides at run time:
    // what earlier steps captured, the run id, and the values a client chooses.
    let mut open: Vec<String> = captured.iter().map(|s| s.to_string()).collect();
    open.push("run_id".into());
    let chosen: Vec<String> = step
        .variables()
        .into_iter()
        .filter(|v| suite.client_chosen.contains_key(*v) && !open.iter().any(|o| o == v))
        .map(str::to_owned)
        .collect();
    open.extend(chosen.iter().cloned());
    let mut render_vars = vars.clone();
    for (i, name) in open.iter().enumerate() {
        render_vars.insert(name.clone(), format!("{OPEN}{i}{CLOSE}"));
    }
    let model = suite.models.get(&step.service)?;
    let mut raw_ct = None;
    let (pairs, raw, signed) = match &step.request {
        Request::Call { operation, params } => {
            let op = model.operation(operation)?;
            let call = query::serialize(model, op, params, &render_vars).ok()?;
            (call.pairs, false, !op.unsigned)
        }
        Request::Raw(r) => {
            raw_ct = r
                .headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
                .and_then(|(_, t)| t.render(vars).ok())
                .or_else(|| {
                    r.body
                        .is_some()
                        .then(|| "application/x-www-form-urlencoded".to_owned())
                });
            let mut pairs: Vec<(String, String)> = Vec::new();
            for t in [&r.body, &r.query].into_iter().flatten() {
                let text = t.render(&render_vars).ok()?;
                pairs.extend(form_urlencoded::parse(text.as_bytes()).into_owned());
            }
            (pairs, true, false)
        }
    };
    let mut params: Vec<(String, Value)> = pairs
        .into_iter()
        .map(|(k, v)| (k, open_value(&v, &open)))
        .collect();
    params.sort_by(|a, b| a.0.cmp(&b.0));
    let creds = match &step.credentials {
        CredentialsSpec::Unsigned => Creds::Unsigned,
        CredentialsSpec::Default if !signed && !raw => Creds::Unsigned,
        CredentialsSpec::Default | CredentialsSpec::Target => Creds::Own,
        CredentialsSpec::Explicit { access_key_id, .. } => {
            if access_key_id.variables().any(|v| captured.contains(&v)) {
                Creds::Issued
            } else {
                Creds::Key(
                    access_key_id.render(vars).ok()?,
                    match &step.credentials {
                        CredentialsSpec::Explicit {
                            secret_access_key, ..
                        } => secret_access_key.render(vars).ok(),
                        _ => None,
                    },
                )
            }
        }
    };
    let signed_creds = !matches!(creds, Creds::Unsigned);
    // Parameters a success answer repeats may take any value the model allows.
    let mut free = Vec::new();
    if let (Request::Call { operation, .. }, Some(a)) = (&step.request, &answer)
        && a.succeeded()
        && let Some(names) = suite
            .free_parameters
            .get(&(step.service.clone(), operation.clone()))
        && let Some(op) = model.operation(operation)
    {
        for name in names {
            if let Some(i) = params
                .iter()
                .position(|(k, v)| k == name && matches!(v, Value::Literal(_)))
            {
                free.push((i, checks.of(model, op, &step.service, name)));
            }
        }
    }
    // Keys an earlier step handed out: that step's operation says what session they are.
    let issuer_op = match &step.credentials {
        CredentialsSpec::Explicit { access_key_id, .. } => access_key_id
            .variables()
            .find_map(|v| {
                case.steps
                    .iter()
                    .find(|s| s.captures.iter().any(|c| c.variable == v))
            })
            .and_then(|s| match &s.request {
                Request::Call { operation, .. } => Some(operation.clone()),
                Request::Raw(_) => None,
            }),
        _ => None,
    };
    Some(Entry {
        case: ci,
        role: step.role,
        test_name: case.test_name(),
        params,
        creds,
        service: (signed_creds && !raw).then(|| model.signing_name.clone()),
        raw,
        content_type: raw_ct,
        answer,
        chosen,
        free,
        doc: case.kind == crate::scenario::Kind::DocExample,
        issuer_op,
    })
}

fn open_value(v: &str, open: &[String]) -> Value {
    if !v.contains(OPEN) {
        return Value::Literal(v.to_owned());
    }
    let mut re = String::from("^");
    let mut vars = Vec::new();
    let mut rest = v;
    while let Some(start) = rest.find(OPEN) {
        re.push_str(&regex::escape(&rest[..start]));
        let after = &rest[start + OPEN.len_utf8()..];
        let end = after.find(CLOSE).unwrap_or(after.len());
        let idx: usize = after[..end].parse().unwrap_or(0);
        re.push_str(&format!("(?P<v{}>.*?)", vars.len()));
        vars.push(open.get(idx).cloned().unwrap_or_default());
        rest = after.get(end + CLOSE.len_utf8()..).unwrap_or("");
    }
    re.push_str(&regex::escape(rest));
    re.push('$');
    if vars.len() == 1 && re == "^(?P<v0>.*?)$" {
        return Value::Open { re: None, vars };
    }
    match Regex::new(&re) {
        Ok(re) => Value::Open { re: Some(re), vars },
        Err(_) => Value::Literal(v.to_owned()),
    }
}

/// Which parameter names differ between a case's request and the one that came.
fn names_differ(expected: &[(String, Value)], got: &[(String, String)]) -> Vec<String> {
    let mut out = Vec::new();
    for (k, _) in expected {
        if !got.iter().any(|(g, _)| g == k) {
            out.push(format!("{k} missing"));
        }
    }
    for (k, _) in got {
        if !expected.iter().any(|(e, _)| e == k) {
            out.push(format!("{k} not expected"));
        }
    }
    out
}

/// A value as a message shows it: long ones shortened.
fn clip(v: &str) -> String {
    if v.chars().count() <= 80 {
        return v.to_owned();
    }
    let start: String = v.chars().take(60).collect();
    format!("{start}... ({} characters)", v.chars().count())
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// The answer with the text of its first `<element>` set to `value`.
fn set_text(body: &str, element: &str, value: &str) -> String {
    let open = format!("<{element}>");
    let close = format!("</{element}>");
    let Some(start) = body.find(&open).map(|i| i + open.len()) else {
        return body.to_owned();
    };
    let Some(end) = body[start..].find(&close).map(|i| start + i) else {
        return body.to_owned();
    };
    format!("{}{}{}", &body[..start], escape(value), &body[end..])
}

/// The answer with a case's literal replaced where an answer names it: the last part of an
/// ARN or an id (after `/` or `:`, before the element's end), as a session name is.
fn replace_named(body: &str, literal: &str, value: &str) -> String {
    if literal.is_empty() {
        return body.to_owned();
    }
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(i) = rest.find(literal) {
        let before = rest[..i].chars().next_back();
        let after = rest[i + literal.len()..].chars().next();
        out.push_str(&rest[..i]);
        if matches!(before, Some('/' | ':')) && after == Some('<') {
            out.push_str(value);
        } else {
            out.push_str(literal);
        }
        rest = &rest[i + literal.len()..];
    }
    out.push_str(rest);
    out
}

/// The answers a snapshot holds, one per checked step that got one.
fn parse_transcript(snapshot: &str) -> Vec<Answer> {
    crate::transcript::steps(snapshot)
        .iter()
        .filter_map(|s| {
            // A step that got no answer, or a transcript cut short, has nothing to serve.
            s.content_type?;
            Some(Answer {
                status: s.status()?,
                content_type: s.answered_content_type().map(str::to_owned),
                body: s.body_text().to_owned(),
            })
        })
        .collect()
}

const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// `n` characters of `alphabet`, different for every seed.
fn chars(seed: &str, n: usize, alphabet: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in seed.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    h ^= nanos;
    (0..n)
        .map(|_| {
            h ^= h << 13;
            h ^= h >> 7;
            h ^= h << 17;
            alphabet[(h % alphabet.len() as u64) as usize] as char
        })
        .collect()
}

fn uuid(seed: u64) -> String {
    let hex = chars(&format!("uuid{seed}"), 32, b"0123456789abcdef");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// `+3600s` (and `:subsecond`) back into an ISO 8601 time that far from now.
fn expiration(arg: &str) -> String {
    let mut parts = arg.split(':');
    let offset = parts
        .next()
        .and_then(|p| p.strip_suffix('s'))
        .and_then(|p| p.parse::<i64>().ok())
        .unwrap_or(3600);
    let t = time::OffsetDateTime::now_utc() + time::Duration::seconds(offset);
    let base = query::iso8601(t);
    if parts.any(|p| p == "subsecond") {
        base.replace('Z', ".500Z")
    } else {
        base
    }
}

/// What the replay server accepts from a client, so that one sending too much or stalling
/// costs it a bounded amount of memory and time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// A longer request body gets 413, and no more of it is read. STS's largest request
    /// (AssumeRoleWithSAML: an assertion of up to 100,000 characters, form-encoded) stays far
    /// below the default of 1 MiB.
    pub max_body_bytes: u64,
    /// A connection is closed when a request's head does not arrive within this time
    /// (nothing sent, half a head, or idle between requests), and a request whose body does
    /// not arrive within it gets 408. The default, 30 s, is hyper's and longer than any pause
    /// of a working client.
    pub idle_timeout: std::time::Duration,
    /// Connections served at once; more wait in the listen backlog.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 1024 * 1024,
            idle_timeout: std::time::Duration::from_secs(30),
            max_connections: 4096,
        }
    }
}

/// The code of the error a request whose body is over the limit gets.
pub const TOO_LARGE_CODE: &str = "RequestEntityTooLarge";

/// A running replay server. Dropping it stops it: the listener and every connection.
pub struct Server {
    addr: std::net::SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn uri(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn address(&self) -> std::net::SocketAddr {
        self.addr
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // The connections are tasks of a JoinSet owned by this one: they end with it.
        self.task.abort();
    }
}

/// Serves a replay over HTTP/1.1 on 127.0.0.1 (`port` 0 picks a free one) with the default
/// limits, on the caller's tokio runtime.
pub async fn serve(replay: std::sync::Arc<Replay>, port: u16) -> std::io::Result<Server> {
    serve_with(replay, port, Limits::default()).await
}

/// Serves a replay with the given limits.
pub async fn serve_with(
    replay: std::sync::Arc<Replay>,
    port: u16,
    limits: Limits,
) -> std::io::Result<Server> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(accept_loop(listener, replay, limits));
    Ok(Server { addr, task })
}

async fn accept_loop(
    listener: tokio::net::TcpListener,
    replay: std::sync::Arc<Replay>,
    limits: Limits,
) {
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(limits.idle_timeout)
        .keep_alive(true);
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let Ok(slot) = std::sync::Arc::clone(&slots).acquire_owned().await else {
            return;
        };
        let accepted = loop {
            // Finished connections are reaped as they end, so the set holds only live ones.
            tokio::select! {
                a = listener.accept() => break a,
                Some(_) = connections.join_next() => {}
            }
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(_) => {
                // Out of descriptors, or a connection reset before it was accepted: wait a
                // little rather than spin, then go on serving.
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let replay = std::sync::Arc::clone(&replay);
        let conn = http.serve_connection(
            hyper_util::rt::TokioIo::new(stream),
            hyper::service::service_fn(move |req| {
                let replay = std::sync::Arc::clone(&replay);
                async move { Ok::<_, std::convert::Infallible>(handle(&replay, limits, req).await) }
            }),
        );
        connections.spawn(async move {
            // A connection that breaks or times out ends here; the client sees it closed.
            let _ = conn.await;
            drop(slot);
        });
    }
}

type Body = http_body_util::Full<hyper::body::Bytes>;

async fn handle(
    replay: &Replay,
    limits: Limits,
    req: hyper::Request<hyper::body::Incoming>,
) -> hyper::Response<Body> {
    use http_body_util::BodyExt;
    let (parts, body) = req.into_parts();
    let limit = limits.max_body_bytes;
    let too_large = |seen: &str| {
        closing(error_reply(
            413,
            TOO_LARGE_CODE,
            &format!(
                "The request body {seen}, over this server's limit of {limit} bytes (conform serve --max-body-bytes raises it)."
            ),
        ))
    };
    let declared = parts
        .headers
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    // Refused on its declared length: none of the body is read.
    if let Some(n) = declared
        && n > limit
    {
        return too_large(&format!("is {n} bytes"));
    }
    let limited = http_body_util::Limited::new(body, usize::try_from(limit).unwrap_or(usize::MAX));
    let bytes = match tokio::time::timeout(limits.idle_timeout, limited.collect()).await {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
            return too_large("is longer");
        }
        // The client broke the body off: nobody reads this answer, the connection is gone.
        Ok(Err(_)) => {
            return closing(error_reply(
                400,
                REJECTED_CODE,
                "The request body broke off.",
            ));
        }
        Err(_) => {
            return closing(error_reply(
                408,
                "RequestTimeout",
                &format!(
                    "The request body did not arrive within {:?} (conform serve --idle-timeout).",
                    limits.idle_timeout
                ),
            ));
        }
    };
    let incoming = Incoming {
        method: parts.method.to_string(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: bytes.to_vec(),
    };
    response(replay.answer(&incoming))
}

fn response(reply: Reply) -> hyper::Response<Body> {
    let mut b = hyper::Response::builder()
        .status(reply.status)
        .header("x-amzn-RequestId", uuid(1));
    if let Some(ct) = &reply.content_type {
        b = b.header(hyper::header::CONTENT_TYPE, ct);
    }
    b.body(Body::new(reply.body.into())).unwrap_or_else(|_| {
        let mut r =
            hyper::Response::new(Body::new("the stored answer has no valid HTTP head".into()));
        *r.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
        r
    })
}

/// An answer after which the connection closes: the rest of the request is not read.
fn closing(reply: Reply) -> hyper::Response<Body> {
    let mut r = response(reply);
    r.headers_mut().insert(
        hyper::header::CONNECTION,
        hyper::header::HeaderValue::from_static("close"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transcripts_split_into_answers() {
        let snap = "=== step 1: AssumeRole\nHTTP 200 OK\ncontent-type: text/xml\n<A>\n  <B>x</B>\n</A>\n\n=== step 2: raw POST /\nHTTP 500 Internal Server Error\ncontent-type: text/html\nbody (not XML, oops):\n<html>\n\n=== step 3: X\nHTTP 204 No Content\ncontent-type: (none)\nbody: (empty)";
        let a = parse_transcript(snap);
        assert_eq!(a.len(), 3);
        assert_eq!(
            (a[0].status, a[0].body.as_str()),
            (200, "<A>\n  <B>x</B>\n</A>")
        );
        assert_eq!(
            (
                a[1].status,
                a[1].body.as_str(),
                a[1].content_type.as_deref()
            ),
            (500, "<html>", Some("text/html"))
        );
        assert_eq!(
            (
                a[2].status,
                a[2].body.as_str(),
                a[2].content_type.as_deref()
            ),
            (204, "", None)
        );
    }

    #[test]
    fn open_values_bind_and_literals_are_replaced_only_where_an_answer_names_them() {
        let v = open_value(&format!("conform-{OPEN}0{CLOSE}-x"), &["run_id".to_owned()]);
        let Value::Open { re: Some(re), .. } = v else {
            panic!("open")
        };
        assert_eq!(
            &re.captures("conform-1a2b3c4d-x").unwrap()["v0"],
            "1a2b3c4d"
        );
        assert!(re.captures("other").is_none());
        let body = "<Arn>arn:aws:sts::1:assumed-role/r/Bob</Arn><AssumedRoleId>X:Bob</AssumedRoleId><Message>Bob is here</Message>";
        assert_eq!(
            replace_named(body, "Bob", "alice"),
            "<Arn>arn:aws:sts::1:assumed-role/r/alice</Arn><AssumedRoleId>X:alice</AssumedRoleId><Message>Bob is here</Message>"
        );
        assert_eq!(
            set_text("<R><Arn>a</Arn><Arn>b</Arn></R>", "Arn", "<x>"),
            "<R><Arn>&lt;x&gt;</Arn><Arn>b</Arn></R>"
        );
    }

    fn identity(expires: Option<time::OffsetDateTime>) -> Identity {
        Identity {
            op: "AssumeRole".into(),
            arn: String::new(),
            user_id: String::new(),
            account: String::new(),
            expires,
            binding: Binding::default(),
            cases: Vec::new(),
        }
    }

    #[test]
    fn handed_out_keys_are_bounded_ended_sessions_first_then_the_oldest() {
        let now = time::OffsetDateTime::now_utc();
        let hour = time::Duration::hours(1);
        let mut issued = Issued::default();
        // Every other key's session has ended; the newest key is live.
        for i in 0..IDENTITIES {
            let ends = if i % 2 == 0 { now - hour } else { now + hour };
            issued.insert(format!("K{i}"), identity(Some(ends)), now);
        }
        assert_eq!(issued.len(), IDENTITIES);
        issued.insert("NEW".into(), identity(Some(now + hour)), now);
        assert_eq!(issued.len(), IDENTITIES / 2 + 1, "ended sessions go first");
        assert!(issued.get("K1").is_some() && issued.get("K0").is_none());
        // Live keys only: the oldest go.
        for i in 0..3 * IDENTITIES {
            issued.insert(format!("L{i}"), identity(None), now);
            assert!(issued.len() <= IDENTITIES);
            assert!(issued.order.len() <= IDENTITIES);
        }
        assert!(issued.get(&format!("L{}", 3 * IDENTITIES - 1)).is_some());
        assert!(issued.get("L0").is_none() && issued.get("NEW").is_none());
    }

    #[test]
    fn expirations_are_computed_from_now() {
        let e = expiration("+3600s");
        assert!(e.ends_with('Z') && !e.contains('.'), "{e}");
        assert!(expiration("+900s:subsecond").ends_with(".500Z"));
    }
}
