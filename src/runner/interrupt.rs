//! A run's interruption, shared by whoever catches the signal and the runner: once
//! triggered, no case starts, and cases under way leave their checked and setup steps (an
//! answer awaited is abandoned) and go straight to their cleanup steps.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Debug, Clone, Default)]
pub struct Interrupt {
    set: Arc<AtomicBool>,
    wake: Arc<tokio::sync::Notify>,
}

impl Interrupt {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn trigger(&self) {
        self.set.store(true, Ordering::SeqCst);
        self.wake.notify_waiters();
    }

    pub fn is_triggered(&self) -> bool {
        self.set.load(Ordering::SeqCst)
    }

    /// Resolves once triggered (at once if it already was).
    pub async fn triggered(&self) {
        let woken = self.wake.notified();
        tokio::pin!(woken);
        // Registered before the flag is read, so a trigger in between is not missed.
        woken.as_mut().enable();
        if self.is_triggered() {
            return;
        }
        woken.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_trigger_wakes_every_waiter_and_later_ones_return_at_once() {
        let interrupt = Interrupt::new();
        let waiters: Vec<_> = (0..3)
            .map(|_| {
                let i = interrupt.clone();
                tokio::spawn(async move { i.triggered().await })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!interrupt.is_triggered());
        interrupt.trigger();
        for w in waiters {
            tokio::time::timeout(Duration::from_secs(5), w)
                .await
                .expect("woken")
                .unwrap();
        }
        tokio::time::timeout(Duration::from_millis(100), interrupt.triggered())
            .await
            .expect("already triggered: returns at once");
    }
}
