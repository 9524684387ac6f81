//! The language detector against hand-labelled captions: fixtures/languages/labelled.jsonl
//! (the marker lists were written from it) and heldout.jsonl (written before the lists were
//! tuned and not used for them, so its accuracy is the honest one).

use postlens_analysis::caption::parse_caption;
use postlens_analysis::language::detect_language;
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    caption: String,
    market: Option<String>,
    language: Option<String>,
}

/// (cases, right, wrong answers given with confidence >= 0.8), printing each miss.
fn score(file: &str) -> (usize, usize, usize) {
    let path = format!(
        "{}/../../fixtures/languages/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).expect("fixture");
    let (mut cases, mut right, mut confident_wrong) = (0, 0, 0);
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let case: Case = serde_json::from_str(line).expect("case");
        let guess = detect_language(&case.caption, case.market.as_deref());
        let got = guess.language.map(|l| l.code().to_owned());
        cases += 1;
        if got == case.language {
            right += 1;
        } else {
            eprintln!(
                "{file}: {:?} ({:?}): expected {:?}, got {got:?} {:?} at {:.2}",
                case.caption, case.market, case.language, guess.candidates, guess.confidence
            );
            if got.is_some() && guess.confidence >= 0.8 {
                confident_wrong += 1;
            }
        }
    }
    (cases, right, confident_wrong)
}

#[test]
fn the_tuning_set_is_read_right() {
    let (cases, right, confident_wrong) = score("labelled.jsonl");
    assert!(cases >= 60);
    assert!(right * 100 >= cases * 95, "{right} of {cases}");
    assert_eq!(confident_wrong, 0);
}

#[test]
fn the_held_out_set_is_read_right() {
    let (cases, right, confident_wrong) = score("heldout.jsonl");
    assert!(cases >= 20);
    assert!(right * 100 >= cases * 70, "{right} of {cases}");
    assert_eq!(confident_wrong, 0);
}

/// Issue 29's held-out set (fixtures/languages/round2.jsonl): 109 captions in all 24
/// languages, plain sentences whose words are mostly not in the marker lists, and short
/// price-heavy ones, written before any change for them. Rules alone abstain on many; the
/// floor is what they got when the set was written (README), so a change may only raise it.
#[test]
fn the_round_two_set_is_guarded() {
    let (cases, right, confident_wrong) = score("round2.jsonl");
    eprintln!("round2: {right} of {cases} right, {confident_wrong} confident mistakes");
    assert!(cases >= 100);
    assert!(right >= ROUND_TWO_RIGHT, "{right} of {cases}");
    assert_eq!(confident_wrong, 0);
}

/// Right answers on round2.jsonl by the rules alone when it was written.
const ROUND_TWO_RIGHT: usize = 99;

/// The caption parser and the language detector read a post's caption with the same rules,
/// so `caption-parsed` and `language-detected` never name two languages for one post.
#[test]
fn the_caption_parser_names_the_detectors_language() {
    let mut compared = 0;
    for file in ["labelled.jsonl", "heldout.jsonl", "round2.jsonl"] {
        let path = format!(
            "{}/../../fixtures/languages/{file}",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path).expect("fixture");
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let case: Case = serde_json::from_str(line).expect("case");
            let market = case.market.as_deref();
            let detected = detect_language(&case.caption, market).language;
            let parsed = parse_caption(&case.caption, market);
            assert_eq!(
                parsed.language.as_deref(),
                detected.map(|l| l.code()),
                "{:?} ({market:?})",
                case.caption
            );
            compared += 1;
        }
    }
    assert!(compared >= 200, "{compared} captions");
}
