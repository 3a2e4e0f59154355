//! What a run tells its reporters while it goes, in the order things happen to each case:
//! the library prints nothing, so the terminal, a progress bar or a test read these.

use std::time::Duration;

use std::sync::Arc;

use tokio::sync::Notify;
use tokio::sync::mpsc::UnboundedSender;

use super::CaseResult;
use crate::run_error::StepRef;

#[derive(Debug)]
pub enum Event<'a> {
    /// A case began: its first step is about to be sent.
    CaseStarted { index: usize, test_name: String },
    /// A step's request came back: `status` is none when no answer came (refused, timed
    /// out, interrupted) or the request could not be sent.
    StepAnswered {
        index: usize,
        step: StepRef,
        status: Option<u16>,
        elapsed: Duration,
    },
    /// A request goes again (the run's policy asked for it): `call` names it
    /// (`sts:AssumeRole`), `why` says what the answer was.
    Retrying {
        index: usize,
        call: String,
        why: &'static str,
        delay: Duration,
    },
    /// A case's result. Every case a run was given gets one, those it did not run included;
    /// `elapsed` is zero for those.
    CaseFinished {
        result: &'a CaseResult,
        elapsed: Duration,
    },
}

/// Where one case's events go: to its run's reporter, or nowhere for a case run alone.
///
/// The reporter's loop reads the queue when a case ends and when `urgent` wakes it (a retry
/// note must show before its wait, not after). Waking it for every event cost a futex call
/// and two context switches per step, about a tenth of a case's CPU.
#[derive(Debug, Clone, Default)]
pub(crate) struct Events {
    to: Option<(UnboundedSender<Event<'static>>, Arc<Notify>)>,
    index: usize,
}

impl Events {
    pub(crate) fn to(
        to: UnboundedSender<Event<'static>>,
        urgent: Arc<Notify>,
        index: usize,
    ) -> Self {
        Events {
            to: Some((to, urgent)),
            index,
        }
    }

    /// The case the events are about.
    pub(crate) fn index(&self) -> usize {
        self.index
    }

    pub(crate) fn send(&self, event: Event<'static>) {
        if let Some((to, urgent)) = &self.to {
            let now = matches!(event, Event::Retrying { .. });
            // A reporter that went away wants nothing more; the run goes on.
            let _ = to.send(event);
            if now {
                urgent.notify_one();
            }
        }
    }
}
