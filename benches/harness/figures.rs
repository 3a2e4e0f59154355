//! The bench's figures: each measured at two suite sizes, shown per case with its growth
//! exponent (how the cost scales from the small suite to the big one: 1 is linear), and
//! written as Markdown for docs/benchmark.md and the README.

use std::fmt::Write as _;

/// What a figure counts, and so how it is shown.
#[derive(Clone, Copy, PartialEq)]
pub enum Unit {
    /// Seconds of CPU for the whole suite, shown in microseconds per case.
    CpuPerCase,
    /// Seconds of wall time for the whole suite.
    Wall,
    /// Peak resident memory, in kilobytes.
    Memory,
}

pub struct Scaled {
    pub what: String,
    pub unit: Unit,
    pub small: f64,
    pub big: f64,
    /// Whether its growth gates (conform's own costs do; the baselines' do not).
    pub gated: bool,
    /// What it is compared with, in words, filled in once every figure is known.
    pub against: String,
}

pub struct Fixed {
    pub what: String,
    pub value: String,
    pub aim: String,
}

pub struct Figures {
    pub sizes: [usize; 2],
    pub scaled: Vec<Scaled>,
    pub fixed: Vec<Fixed>,
}

/// The exponent `e` with `big / small = (sizes[1] / sizes[0]) ^ e`.
pub fn growth(sizes: [usize; 2], small: f64, big: f64) -> f64 {
    if small <= 0.0 || big <= 0.0 {
        return 0.0;
    }
    (big / small).ln() / (sizes[1] as f64 / sizes[0] as f64).ln()
}

/// The growth above which the bench fails: costs may grow a little faster than the suite
/// (noise, caches), never by a power.
pub const GROWTH_LIMIT: f64 = 1.2;

impl Scaled {
    fn show(&self, total: f64, cases: usize) -> String {
        match self.unit {
            Unit::CpuPerCase => format!("{:.0} us", total * 1e6 / cases as f64),
            Unit::Wall => format!("{total:.2} s"),
            Unit::Memory => format!("{:.0} MB", total / 1024.0),
        }
    }
}

impl Figures {
    pub fn growth_of(&self, s: &Scaled) -> f64 {
        growth(self.sizes, s.small, s.big)
    }

    /// The figures whose growth is over the limit.
    pub fn too_steep(&self) -> Vec<&Scaled> {
        self.scaled
            .iter()
            .filter(|s| s.gated && self.growth_of(s) > GROWTH_LIMIT)
            .collect()
    }

    pub fn markdown(&self) -> String {
        let [a, b] = self.sizes;
        let mut out = format!(
            "| figure | {a} cases | {b} cases | growth | compared with |\n|---|---|---|---|---|\n"
        );
        for s in &self.scaled {
            writeln!(
                out,
                "| {} | {} | {} | {:.2}{} | {} |",
                s.what,
                s.show(s.small, a),
                s.show(s.big, b),
                self.growth_of(s),
                if s.gated { "" } else { " (baseline)" },
                s.against
            )
            .unwrap();
        }
        out.push_str("\n| figure | value | aim |\n|---|---|---|\n");
        for f in &self.fixed {
            writeln!(out, "| {} | {} | {} |", f.what, f.value, f.aim).unwrap();
        }
        out
    }
}
