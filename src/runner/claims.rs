//! Names a running case holds in the target's account. Two cases that create the user
//! "Alice" (as the documented examples print it) must not run at the same time, or one
//! finds the other's user; which members name such things is data (`names` in each
//! service's resources file), and a case claims every value it sends in one that is the
//! same for every case of a run: a literal, or a name made of target variables such as the
//! run id (`conform-{{run_id}}-noperm`, which several cases may create), not of captures.
//! Likewise a case calling a listing never runs beside one that makes what it lists (`sees`
//! in the resources file): it would show that case's resource too (moto lists a virtual MFA
//! device with its seed).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::OwnedMutexGuard;

use crate::scenario::{Case, ParamValue, Request};
use crate::suite::Suite;

/// One lock per claimed name, made when a case first claims it.
#[derive(Default)]
pub(super) struct Claims(Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>);

impl Claims {
    /// Waits until no other case holds any of `keys`, then holds them all until the guards
    /// drop. Every case takes its keys in sorted order, so no two wait on each other.
    pub(super) async fn hold(&self, keys: &[String]) -> Vec<OwnedMutexGuard<()>> {
        let locks: Vec<_> = {
            let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
            keys.iter()
                .map(|k| Arc::clone(map.entry(k.clone()).or_default()))
                .collect()
        };
        let mut held = Vec::with_capacity(locks.len());
        for lock in locks {
            held.push(lock.lock_owned().await);
        }
        held
    }
}

/// What `case` claims: `service/Member=value` for every value of a member its service's
/// resources file names that is the same in every case of a run (no variable an earlier step
/// captured; written as the template is), sorted, each once.
pub(super) fn keys(suite: &Suite, case: &Case) -> Vec<String> {
    let captured: Vec<&str> = case
        .steps
        .iter()
        .flat_map(|s| s.captures.iter().map(|c| c.variable.as_str()))
        .collect();
    let mut out = Vec::new();
    for step in &case.steps {
        let Request::Call { operation, params } = &step.request else {
            continue;
        };
        let Some(resources) = suite.resources.get(&step.service) else {
            continue;
        };
        // A listing and the operations that make what it lists take one claim.
        for (listing, makers) in &resources.sees {
            if listing == operation || makers.contains(operation) {
                out.push(format!("{}/{listing} lists", step.service));
            }
        }
        for (member, value) in params {
            if let ParamValue::Str(t) = value
                && t.variables().all(|v| !captured.contains(&v))
                && resources.names.iter().any(|n| n == member)
                && let Ok(name) = t.render(
                    &t.variables()
                        .map(|v| (v.to_owned(), format!("{{{{{v}}}}}")))
                        .collect(),
                )
            {
                out.push(format!("{}/{member}={name}", step.service));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}
