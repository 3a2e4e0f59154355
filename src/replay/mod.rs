//! The replay side: answers requests the way the recorded service did, from the snapshots.
//!
//! Every checked step of every case becomes an expected request (`expect`) with the answer
//! its snapshot holds. A request (`decode`) is matched on its decoded, sorted parameters
//! (`matching`) and checked for what an SDK must send (`verify`); placeholders in the answer
//! are turned back into plausible values (`render`, `fresh`). Keys handed out are remembered
//! (`keys`), so the later steps of a flow match by the credentials that sign them. A flow
//! that sends one request twice (a delete, then the same delete again) is answered in the
//! order of its steps, per run (`in_turn`). Setup and
//! cleanup steps get generic answers (`setup`). A request that breaks its operation's model
//! gets the service's validation error (`refusal`); anything else gets a loud error that
//! names the closest cases (`miss`). `server` puts it on the wire.
//!
//! Nothing here knows a service: what the model, the redaction rules and the snapshots do
//! not say comes from `models/<service>.replay.yaml` (`crate::stand_in`).

mod decode;
mod expect;
mod fresh;
mod index;
mod keys;
mod matching;
mod miss;
mod refusal;
mod render;
mod server;
mod setup;
mod verify;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::scenario::Role;
use crate::stand_in::Sessions;
use crate::suite::{ClientChosen, Suite};
use crate::template::Vars;

pub use decode::Incoming;
pub use server::{HEALTH_PATH, Limits, Server, Threaded, serve, serve_threaded, serve_with};

use expect::Entry;
use fresh::{Makers, request_id};
use index::Index;
use keys::Issued;
use matching::{Found, Signer};
use refusal::Constraints;
use render::Rendering;
use setup::SetupAnswer;
use verify::protocol_problem;

/// The code of the error a request that no scenario expects gets.
pub const NO_MATCH_CODE: &str = "ConformNoMatchingScenario";
/// The code of the error a request that breaks the protocol an SDK must follow gets.
pub const REJECTED_CODE: &str = "ConformRequestRejected";
/// The code of the error a request whose body is over the limit gets.
pub const TOO_LARGE_CODE: &str = "RequestEntityTooLarge";

/// The run a conform client names in its User-Agent (`conform/0.1.0 run/1a2b3c4d`).
fn run_of_agent(agent: &str) -> Option<&str> {
    let rest = agent.strip_prefix("conform/")?;
    let run = rest
        .split_whitespace()
        .find_map(|w| w.strip_prefix("run/"))?;
    (!run.is_empty()
        && run.len() <= 64
        && run
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    .then_some(run)
}

/// How many run ids the server remembers (one per client run it serves at once).
const RUN_IDS: usize = 64;
/// Rounds of repeated requests under way that the server remembers (`in_turn`).
const REPEATS: usize = 4096;

/// What the replay server answers.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: String,
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

/// Told about every request the replay could not answer from a scenario.
pub type Observer = Box<dyn Fn(&str) + Send + Sync>;

/// What the server knows of one service beyond its cases.
#[derive(Debug, Clone, Default)]
struct Service {
    /// The namespace of its answers and errors, from its model.
    namespace: Option<String>,
    operations: HashSet<String>,
    sessions: Option<Sessions>,
    /// Operation to the answer of its setup and cleanup steps.
    setup: HashMap<String, SetupAnswer>,
    /// Its model and validation format, to refuse what breaks a constraint as it would.
    constraints: Option<Constraints>,
}

#[derive(Default)]
struct State {
    /// Access keys handed out, with whom they stand for.
    identities: Issued,
    /// Whether each case (by its index) was asked for: a flag, not its name, since every
    /// request marks one.
    requested: Vec<bool>,
    /// The first `UNMATCHED_KEPT` messages, and how many there were in all.
    unmatched: Vec<String>,
    unmatched_count: usize,
    counter: u64,
    /// Stable values (role ids) stay the same across the steps of a case, as the same
    /// role's id does in AWS: by case, run id (empty for a client that sends none) and
    /// placeholder. Another run of the case gets values of its own, and they are forgotten
    /// with their run id.
    stable: HashMap<(usize, String, String), String>,
    /// Run ids the clients' requests carried, the newest last: an answer that names a run
    /// id its own request does not carry takes one of these, not the server's.
    run_ids: Vec<String>,
    /// How often each request a case sends more than once was asked, by its first entry
    /// and the run id it carried.
    repeats_asked: HashMap<(usize, String), usize>,
}

impl State {
    fn mark_requested(&mut self, case: usize) {
        if self.requested.len() <= case {
            self.requested.resize(case + 1, false);
        }
        self.requested[case] = true;
    }
}

pub struct Replay {
    entries: Vec<Entry>,
    /// Entries filed by their parameter names and values: a request meets only those that
    /// can match it.
    index: Index,
    /// For each entry whose case sends the same request more than once: those entries, in
    /// step order (a delete and the delete again answer differently).
    repeats: HashMap<usize, Arc<[usize]>>,
    observer: Option<Observer>,
    vars: Vars,
    /// Placeholder name to the variable whose value it stands for.
    placeholder_vars: HashMap<String, String>,
    /// Variables a client chooses, with their shapes.
    chosen: BTreeMap<String, ClientChosen>,
    /// How every other placeholder is made fresh.
    makers: Makers,
    services: BTreeMap<String, Service>,
    /// The service with the most cases: errors that can name no other speak for it.
    main_service: String,
    /// Keys that are the client's own whatever they look like (a run's own temporary keys).
    trusted: Mutex<HashSet<String>>,
    /// How far the server's clock runs ahead of the wall clock (`advance`).
    ahead: Mutex<Duration>,
    state: Mutex<State>,
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
            placeholder_vars.extend(rules.variable_placeholders());
        }
        // Where two services' rules name one placeholder, the first (by name) makes it.
        let makers = Makers::new(suite.models.keys().filter_map(|s| {
            let rules = suite.rules.get(s)?;
            Some((s.as_str(), rules.looks(), suite.stand_ins.get(s)))
        }));
        let services = services(suite);
        let entries = expect::entries(suite, &vars);
        let mut cases_of: BTreeMap<&str, usize> = BTreeMap::new();
        for c in &suite.cases {
            *cases_of.entry(c.service.as_str()).or_default() += 1;
        }
        let main_service = cases_of
            .iter()
            .max_by_key(|(s, n)| (**n, std::cmp::Reverse(**s)))
            .map(|(s, _)| (*s).to_owned())
            .or_else(|| suite.models.keys().next().cloned())
            .unwrap_or_default();
        Replay {
            placeholder_vars,
            chosen: suite.client_chosen.clone(),
            makers,
            services,
            main_service,
            ..Replay::with_entries(entries, vars)
        }
    }

    /// A replay of these entries, standing for these values, that knows nothing else yet.
    fn with_entries(entries: Vec<Entry>, vars: Vars) -> Replay {
        Replay {
            index: Index::new(&entries),
            repeats: expect::repeats(&entries),
            entries,
            observer: None,
            vars,
            placeholder_vars: HashMap::new(),
            chosen: BTreeMap::new(),
            makers: Makers::default(),
            services: BTreeMap::new(),
            main_service: String::new(),
            trusted: Mutex::new(HashSet::new()),
            ahead: Mutex::new(Duration::ZERO),
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
    pub fn advance(&self, by: Duration) {
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
        let key = req.access_key();
        let identity = key.and_then(|k| self.lock().identities.get(k).cloned());
        if let Some(id) = &identity
            && id.expires.is_some_and(|t| t <= self.now())
            && let Some(sessions) = self.sessions(&id.service)
            // AWS refuses keys whose session has ended, whatever they ask.
            && let Some(reply) = self.coded_answer(&params, &sessions.expired_code, &id.binding)
        {
            return reply;
        }
        let stranger = identity.is_none()
            && req.header("x-amz-security-token").is_some()
            && key.is_some_and(|k| {
                !self
                    .trusted
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .contains(k)
            });
        let signer = Signer {
            key,
            identity: identity.as_ref(),
            stranger,
        };
        let (entry, mut binding, tied) = match self.find(req, &params, &signer) {
            Found::Match {
                entry,
                binding,
                tied,
            } => (entry, binding, tied),
            Found::Miss => {
                if let Some(id) = &identity
                    && let Some(reply) = self.session_answer(&params, id)
                {
                    return reply;
                }
                // Temporary keys nobody handed out: stale credentials, which AWS does not
                // know either.
                if stranger && let Some(reply) = self.unknown_key_answer(&params) {
                    return reply;
                }
                if let Some(reply) = self.refusal(req, &params) {
                    return reply;
                }
                let near = self.closest(req, &params, &signer);
                return self.no_match(req, &params, near);
            }
        };
        // A request whose own values carry no run id (a listing) belongs to the run its
        // client names, when it is conform's: concurrent runs get their own names back.
        if !binding.vars.contains_key("run_id")
            && let Some(run) = req.header("user-agent").and_then(run_of_agent)
        {
            binding.vars.insert("run_id".into(), run.to_owned());
        }
        let entry = self.in_turn(entry, &binding);
        if let Some(problem) = protocol_problem(entry, req) {
            return self.rejected(entry, &problem);
        }
        // What the values a client chose derive (the role's name and account).
        for name in &entry.chosen {
            if let (Some(shape), Some(v)) = (self.chosen.get(name), binding.vars.get(name))
                && let Some(derived) = shape.bind(name, &v.clone())
            {
                binding.vars.extend(derived);
            }
        }
        // A later step signed with handed-out keys answers for the same role and session.
        let binding = match identity.as_ref().filter(|_| signer.issued_to(entry.case)) {
            Some(id) => id.binding.merged(&binding),
            None => binding,
        };
        {
            let mut st = self.lock();
            st.mark_requested(entry.case);
            if let Some(run_id) = binding.vars.get("run_id")
                && !st.run_ids.contains(run_id)
            {
                st.run_ids.push(run_id.clone());
                if st.run_ids.len() > RUN_IDS {
                    let gone = st.run_ids.remove(0);
                    st.stable.retain(|(_, run, _), _| *run != gone);
                }
            }
        }
        let op = entry.action().unwrap_or_default();
        match &entry.answer {
            Some(a) => Reply {
                status: a.status,
                content_type: a.content_type.clone(),
                body: self.render(&a.body, &binding, &Rendering::of(entry, &tied, op)),
            },
            None => self.setup_answer(entry, &params, &binding, &tied),
        }
    }

    /// Which cases were never asked for, and which requests matched nothing.
    pub fn report(&self) -> Report {
        let st = self.lock();
        let mut never: Vec<String> = self
            .entries
            .iter()
            .filter(|e| e.role == Role::Check && !st.requested.get(e.case).is_some_and(|r| *r))
            .map(|e| e.test_name.clone())
            .collect();
        never.dedup();
        Report {
            never_requested: never,
            unmatched: st.unmatched.clone(),
            unmatched_count: st.unmatched_count,
        }
    }

    /// The entry that answers a request its case sends more than once: the first time the
    /// first of them, then the next, in step order, per run id (and round again after the
    /// last, for a case without one that runs again).
    fn in_turn<'a>(&'a self, entry: &'a Entry, binding: &matching::Binding) -> &'a Entry {
        let at = (entry as *const Entry as usize - self.entries.as_ptr() as usize)
            / std::mem::size_of::<Entry>().max(1);
        let Some(same) = self.repeats.get(&at) else {
            return entry;
        };
        let run_id = binding.vars.get("run_id").cloned().unwrap_or_default();
        let key = (same[0], run_id);
        let mut st = self.lock();
        // Only rounds under way are remembered, and at most REPEATS of them: clients that
        // start rounds and never finish them cannot grow the server without bound.
        if !st.repeats_asked.contains_key(&key) && st.repeats_asked.len() >= REPEATS {
            st.repeats_asked.clear();
        }
        let asked = st.repeats_asked.entry(key.clone()).or_default();
        let pick = same[*asked % same.len()];
        *asked += 1;
        if *asked == same.len() {
            st.repeats_asked.remove(&key);
        }
        &self.entries[pick]
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn sessions(&self, service: &str) -> Option<&Sessions> {
        self.services.get(service)?.sessions.as_ref()
    }

    /// The service whose keys a placeholder stands for, when it hands keys out.
    fn issuer_of(&self, placeholder: &str) -> Option<&str> {
        self.services.iter().find_map(|(name, s)| {
            (s.sessions.as_ref()?.key == placeholder).then_some(name.as_str())
        })
    }

    fn main_service(&self) -> &str {
        &self.main_service
    }

    fn namespace(&self, service: &str) -> Option<&str> {
        self.services.get(service)?.namespace.as_deref()
    }

    /// The service a request that matched nothing is for: the one its signature is scoped
    /// to when that one has its action or no service has it, else the first with its
    /// action, else the main one.
    fn service_of<'a>(&'a self, action: Option<&str>, signed_for: Option<&str>) -> &'a str {
        let has = |s: &Service| action.is_some_and(|a| s.operations.contains(a));
        if let Some((name, s)) = signed_for.and_then(|n| self.services.get_key_value(n))
            && (has(s) || !self.services.values().any(has))
        {
            return name;
        }
        self.services
            .iter()
            .find(|(_, s)| has(s))
            .map_or(&self.main_service, |(n, _)| n)
    }
}

/// What the suite says of each service beyond its cases: its namespace and operations
/// (the model), its sessions and setup answers (its replay file; operations without output
/// answer empty), and how it refuses what breaks its model (the facts file).
fn services(suite: &Suite) -> BTreeMap<String, Service> {
    let mut out = BTreeMap::new();
    for (name, model) in &suite.models {
        let stand_in = suite.stand_ins.get(name);
        let mut setup: HashMap<String, SetupAnswer> = model
            .operations
            .values()
            .filter(|op| op.output.is_none())
            .map(|op| (op.name.clone(), SetupAnswer::Empty))
            .collect();
        for (op, s) in stand_in.iter().flat_map(|s| &s.setup) {
            let wrapper = model
                .operation(op)
                .and_then(|o| o.result_wrapper.clone())
                .unwrap_or_else(|| format!("{op}Result"));
            setup.insert(
                op.clone(),
                SetupAnswer::Result {
                    wrapper,
                    setup: s.clone(),
                },
            );
        }
        out.insert(
            name.clone(),
            Service {
                namespace: model.xml_namespace.clone(),
                operations: model.operations.keys().cloned().collect(),
                sessions: stand_in.and_then(|s| s.sessions.clone()),
                setup,
                constraints: suite
                    .facts
                    .get(name)
                    .and_then(|f| f.validation.clone())
                    .map(|format| Constraints {
                        model: model.clone(),
                        format,
                    }),
            },
        );
    }
    out
}

/// An error of the server's own, in the awsQuery error form.
fn error_reply(status: u16, code: &str, message: &str, namespace: Option<&str>) -> Reply {
    Reply {
        status,
        content_type: Some("text/xml".into()),
        body: crate::query::error_document(namespace, code, message, &request_id(code)),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_conform_client_names_its_run_in_its_agent() {
        assert_eq!(
            super::run_of_agent("conform/0.1.0 run/1a2b3c4d"),
            Some("1a2b3c4d")
        );
        assert_eq!(super::run_of_agent("conform/0.1.0"), None);
        assert_eq!(super::run_of_agent("aws-sdk-rust/1.0 run/1a2b"), None);
        assert_eq!(super::run_of_agent("conform/0.1.0 run/"), None);
        assert_eq!(super::run_of_agent("conform/0.1.0 run/a{b}"), None);
    }
}
