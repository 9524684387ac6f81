//! Fuzz targets for every parser of untrusted input, and a seeded mutator to drive them.
//!
//! Coverage-guided fuzzers need nightly (cargo-fuzz) or a separately instrumented build of
//! the whole dependency tree (afl.rs, libfuzzer-sys with sancov flags); neither fits these
//! 2-core machines and their offline registry mirror in a `make test` budget. So the targets
//! are plain functions over bytes, driven by a deterministic mutator over the seed corpora
//! under `fixtures/fuzz/` (bit flips, byte and chunk edits, interesting integers, splices
//! between seeds). A target fails by panicking; the runner catches the panic, names the
//! target, and writes the input that caused it. The same functions can be handed to a
//! coverage-guided engine unchanged where one is available.

pub mod mutate;
pub mod targets;

pub use mutate::Mutator;
pub use targets::{Target, TARGETS};

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long a fuzzing run goes on.
#[derive(Debug, Clone, Copy)]
pub enum Budget {
    /// This many inputs per target.
    Iterations(u64),
    /// This long per target.
    Time(Duration),
}

/// An input that made a target panic.
#[derive(Debug, Clone)]
pub struct Finding {
    /// The input, byte for byte.
    pub input: Vec<u8>,
    /// The panic's message.
    pub message: String,
}

/// What one target's run did.
#[derive(Debug, Default)]
pub struct Report {
    /// Inputs run.
    pub executions: u64,
    /// Inputs that panicked.
    pub findings: Vec<Finding>,
}

/// The seed corpus of `target`: every file under `fixtures/fuzz/<name>/`.
pub fn seeds(fixtures: &Path, target: &Target) -> std::io::Result<Vec<Vec<u8>>> {
    let dir = fixtures.join("fuzz").join(target.name);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.is_file())
        .collect();
    paths.sort();
    paths.iter().map(std::fs::read).collect()
}

/// The input running now and since when, for the hang watchdog.
pub type Current = std::sync::Arc<std::sync::Mutex<Option<(Instant, Vec<u8>)>>>;

/// Runs `target` on every seed, then on mutations of them until `budget` is spent. Stops
/// early after ten findings: by then the bug is plain. `current` (if given) always holds the
/// input being run, so a watchdog can save an input that hangs.
pub fn fuzz(
    target: &Target,
    seeds: &[Vec<u8>],
    budget: Budget,
    seed: u64,
    current: Option<&Current>,
) -> Report {
    let mut report = Report::default();
    let mut mutator = Mutator::new(seed);
    let started = Instant::now();
    let run = |input: Vec<u8>, report: &mut Report| {
        report.executions += 1;
        if let Some(current) = current {
            *current.lock().unwrap_or_else(|p| p.into_inner()) =
                Some((Instant::now(), input.clone()));
        }
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| (target.run)(&input))) {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "non-string panic".to_owned());
            report.findings.push(Finding { input, message });
        }
    };
    for input in seeds {
        run(input.clone(), &mut report);
    }
    if seeds.is_empty() {
        return report;
    }
    loop {
        let done = match budget {
            Budget::Iterations(n) => report.executions >= n,
            Budget::Time(limit) => started.elapsed() >= limit,
        };
        if done || report.findings.len() >= 10 {
            return report;
        }
        let base = &seeds[mutator.below(seeds.len())];
        let other = &seeds[mutator.below(seeds.len())];
        let input = mutator.mutate(base, other, target.max_len);
        run(input, &mut report);
    }
}
