//! The language detector with fastText's lid.176 where its rules abstain, on the language
//! sets (fixtures/languages): the tuning set, the first held-out set and issue 29's round
//! two. Skipped when `make models` has not run.

use postlens_analysis::language::{detect_language_with, LanguageModel, Method};
use postlens_models::{model_dir, LanguageId};
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    caption: String,
    market: Option<String>,
    language: Option<String>,
}

/// (cases, right, wrong answers at confidence >= 0.8, answers by the model), printing misses.
fn score(file: &str, model: &dyn LanguageModel) -> (usize, usize, usize, usize) {
    let path = format!(
        "{}/../../fixtures/languages/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).expect("fixture");
    let (mut cases, mut right, mut confident_wrong, mut by_model) = (0, 0, 0, 0);
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let case: Case = serde_json::from_str(line).expect("case");
        let guess = detect_language_with(&case.caption, case.market.as_deref(), Some(model));
        let got = guess.language.map(|l| l.code().to_owned());
        cases += 1;
        by_model += usize::from(guess.method == Some(Method::Model));
        if got == case.language {
            right += 1;
        } else {
            eprintln!(
                "{file}: {:?}: expected {:?}, got {got:?} by {:?} at {:.2}",
                case.caption, case.language, guess.method, guess.confidence
            );
            if got.is_some() && guess.confidence >= 0.8 {
                confident_wrong += 1;
            }
        }
    }
    eprintln!("{file}: {right} of {cases} right, {by_model} by the model, {confident_wrong} confident mistakes");
    (cases, right, confident_wrong, by_model)
}

#[test]
fn rules_then_lid_176_on_every_language_set() {
    let Some(dir) = model_dir().filter(|d| d.join(postlens_models::language_id::LID_176).is_file())
    else {
        eprintln!("skipped: run `make models`");
        return;
    };
    let model = LanguageId::load(&dir).expect("lid.176 loads");
    let (cases, right, confident_wrong, _) = score("round2.jsonl", &model);
    assert!(right * 100 >= cases * 95, "round2: {right} of {cases}");
    assert_eq!(confident_wrong, 0, "round2");
    let (cases, right, confident_wrong, _) = score("heldout.jsonl", &model);
    // 28 when measured; the rules alone get 22. The Malay/Indonesian market rule in
    // `by_model` was written after seeing one of these misses, so this set is partly tuned.
    assert!(
        right >= 28,
        "held-out: {right} of {cases}, the rules alone got 22"
    );
    assert_eq!(confident_wrong, 0, "held-out");
    let (cases, right, confident_wrong, _) = score("labelled.jsonl", &model);
    assert!(right * 100 >= cases * 95, "tuning set: {right} of {cases}");
    assert_eq!(confident_wrong, 0, "tuning set");
}
