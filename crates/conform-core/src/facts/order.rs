//! Element orders of a service's answers, and what follows from an order that is only
//! documented: no target is judged on it, and snapshots say so.

use crate::deviation::{Kind, NotJudged};
use crate::scenario::Provenance;

use super::Facts;

/// An element order: recorded (an emulator is judged on it) or only documented (it is not).
#[derive(Debug, Clone)]
pub struct Order {
    /// A glob over element paths, as not-judged rules write them.
    pub path: String,
    pub provenance: Provenance,
    pub source: String,
}

impl Facts {
    /// The element orders that are only documented, not recorded.
    pub fn documented_orders(&self) -> impl Iterator<Item = &Order> {
        self.order
            .iter()
            .filter(|o| o.provenance == Provenance::Documented)
    }

    /// What a snapshot holding a result says of its order, when the service's result order
    /// is only documented.
    pub fn order_note(&self) -> Option<String> {
        self.documented_orders().next().map(|o| {
            format!(
                "; element order of results: documented ({}), not recorded",
                o.source
            )
        })
    }

    /// Element orders that are only documented: rules that leave such order deviations
    /// unjudged for every target, since no target can be wrong against an order AWS is not
    /// known to use.
    pub fn not_judged(&self) -> Vec<NotJudged> {
        self.documented_orders()
            .map(|o| NotJudged {
                kind: Some(Kind::ElementOrder),
                path: Some(o.path.clone()),
                case: Some(format!("{}::*", self.service)),
                reason: format!(
                    "{}: element order documented, not recorded ({})",
                    self.service, o.source
                ),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::tests::facts;

    #[test]
    fn documented_orders_become_rules_for_every_target() {
        let rules = facts().not_judged();
        assert_eq!(rules.len(), 1);
        assert_eq!(rules[0].kind, Some(Kind::ElementOrder));
        assert_eq!(rules[0].case.as_deref(), Some("sts::*"));
    }
}
