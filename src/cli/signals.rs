//! Ctrl-C and SIGTERM: the first asks cases under way to finish (cleanup included), the second exits at once; and running the selected cases under that interrupt.

use std::sync::Arc;
use std::time::Duration;

use conform::runner::{CaseResult, Event, Interrupt, Runner};

/// The exit code of a run that was interrupted, as shells report a SIGINT.
pub(crate) const INTERRUPTED: u8 = 130;

/// The emulator a run started, which an exit on a second signal (skipping Drop) must stop:
/// it runs in a process group of its own, so no signal reaches it but ours.
static EMULATOR: std::sync::Mutex<Option<conform::emulator::Stopper>> = std::sync::Mutex::new(None);

pub(crate) fn stop_on_exit(stopper: conform::emulator::Stopper) {
    if let Ok(mut e) = EMULATOR.lock() {
        *e = Some(stopper);
    }
}

fn exit_now() -> ! {
    if let Some(stopper) = EMULATOR.lock().ok().and_then(|mut e| e.take()) {
        stopper.stop();
    }
    std::process::exit(INTERRUPTED.into());
}

/// The first SIGINT or SIGTERM triggers `interrupt` (and says what happens now); a second
/// exits at once. SIGTERM counts as much as Ctrl-C: a run in the background, where the shell
/// ignores SIGINT for it, or under a CI runner that cancels a job, must still clean up.
pub(crate) fn on_signals(
    runtime: &tokio::runtime::Runtime,
    interrupt: Interrupt,
    what: &'static str,
) {
    runtime.block_on(async {
        let mut signals = match Signals::new() {
            Ok(s) => s,
            Err(e) => {
                eprintln!(
                    "warning: cannot catch Ctrl-C or SIGTERM ({e}); they will stop conform at once"
                );
                return;
            }
        };
        tokio::spawn(async move {
            signals.next().await;
            eprintln!("\ninterrupted: {what} (again to exit at once)");
            interrupt.trigger();
            signals.next().await;
            eprintln!("interrupted again: exiting now; cleanup steps under way did not finish");
            exit_now();
        });
    });
}

/// Ctrl-C, and on Unix SIGTERM as well.
pub(crate) struct Signals {
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> std::io::Result<Signals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Signals {
                int: signal(SignalKind::interrupt())?,
                term: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }

    async fn next(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.int.recv() => {}
            _ = self.term.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Runs the cases; once interrupted, waits `grace` for those under way to clean up, then
/// reports them as not run. Every case gets a result, in order.
pub(crate) fn run_cases(
    runtime: &tokio::runtime::Runtime,
    runner: &Arc<Runner>,
    interrupt: &Interrupt,
    indices: &[usize],
    jobs: usize,
    grace: Duration,
    on_event: impl FnMut(&Event<'_>),
) -> Vec<CaseResult> {
    runtime.block_on(runner.check_all_until(indices, jobs, on_event, async {
        interrupt.triggered().await;
        tokio::time::sleep(grace).await;
        eprintln!(
            "the cases under way did not finish within {} s of the interrupt; they are reported as not run",
            grace.as_secs()
        );
    }))
}
