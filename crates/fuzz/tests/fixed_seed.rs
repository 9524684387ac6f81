//! The short fixed-seed pass `make test` runs: every target on its seed corpus and a few
//! thousand mutations of it. `make fuzz` runs the same targets for longer.

use std::path::Path;

use postlens_fuzz::{fuzz, seeds, Budget, TARGETS};

/// Mutations per target: the media targets decode, so they get fewer.
fn iterations(name: &str) -> u64 {
    match name {
        "mp4" => 300,
        "image" => 1_000,
        _ => 3_000,
    }
}

#[test]
fn no_target_panics_on_its_seeds_or_their_mutations() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
    let mut failures = Vec::new();
    for target in TARGETS {
        let corpus = seeds(&fixtures, target).expect("seed corpus under fixtures/fuzz");
        assert!(!corpus.is_empty(), "{} has no seeds", target.name);
        let report = fuzz(
            target,
            &corpus,
            Budget::Iterations(iterations(target.name)),
            20261202,
            None,
        );
        assert!(report.executions >= iterations(target.name));
        for finding in report.findings {
            failures.push(format!(
                "{}: {} on {:?}",
                target.name,
                finding.message,
                String::from_utf8_lossy(&finding.input[..finding.input.len().min(200)])
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
