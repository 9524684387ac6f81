//! The language a caption is written in, and whether it fits the post's market.
//!
//! Rules, not a model, like the caption parser: a script that one language owns decides at
//! once (Hangul is Korean), and Latin-script captions are decided by marker words and
//! telling letters. Captions are short and full of brand names, sizes and prices, so a
//! caption without a marker word is `undetermined` rather than guessed, and the post's
//! declared market only breaks ties between languages that both have evidence (Malay and
//! Indonesian share most of their words).
//!
//! Where the rules abstain (no marker word, a tie) or are unsure, a statistical model may be
//! asked ([`detect_language_with`], [`LanguageModel`]: fastText's lid.176 in
//! `postlens-models`); its answer counts only in the script the caption is written in.

mod languages;
mod markers;
mod script;

use serde::{Deserialize, Serialize};

pub use languages::{market_languages, Language, ALL, MARKET_LANGUAGES};
pub use script::Script;

use script::ScriptCounts;

/// Only the start of a long caption is read: a language shows in its first words, and a
/// 256 KiB caption must cost what a short one does.
pub const MAX_WORDS_READ: usize = 400;
/// The share of letters a non-Latin script needs to decide ("Abaya أسود وأبيض" is Arabic,
/// an English caption with one Korean brand name is not Korean).
const SCRIPT_SHARE: f32 = 0.4;
/// Marker evidence below one whole word ("de" alone is shared by four languages) is none.
const MIN_EVIDENCE: f32 = 1.0;
/// What the market adds to a language that already has evidence: less than a shared word,
/// so it breaks ties and never outvotes the caption.
const MARKET_PRIOR: f32 = 0.25;
/// Candidates reported, best first.
const CANDIDATES: usize = 3;
/// Marker words reported as evidence.
const EVIDENCE_WORDS: usize = 8;
/// The model's best language needs this probability to be an answer.
const MODEL_MIN_PROBABILITY: f32 = 0.5;
/// Marker decisions below this confidence are asked of the model too.
const RULES_SURE: f32 = 0.5;

/// A statistical language identifier the rules defer to where they abstain.
pub trait LanguageModel {
    /// The probability of each of our languages for `text`, best first (languages we do not
    /// tell apart left out).
    fn rank(&self, text: &str) -> Vec<(Language, f32)>;
}

/// How a language was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// A script one language owns (Hangul is Korean).
    Script,
    /// Marker words and telling letters.
    Markers,
    /// The statistical model, where the rules abstained or were unsure.
    Model,
}

/// Why no language was named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Undetermined {
    /// No letters at all (emoji, prices, sizes).
    NoLetters,
    /// Latin letters, but no marker word of any language (brand names and product nouns).
    NoMarkerWords,
    /// Two languages have the same evidence and the market does not choose between them.
    Tied,
    /// A script we have no language for.
    UnknownScript,
}

/// One language's evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// The language.
    pub language: Language,
    /// Marker words and telling letters for it (shares of shared words), with the market's
    /// tie-break; for a script decision, the script's share of the letters.
    pub score: f32,
}

/// What [`detect_language`] found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LanguageGuess {
    /// The caption's language; null when `undetermined` says why not.
    pub language: Option<Language>,
    /// Why `language` is null.
    pub undetermined: Option<Undetermined>,
    /// The script with the most letters; null when there are no letters.
    pub script: Option<Script>,
    /// 0 to 1: the best language's share of all the evidence, lowered when there is
    /// little of it (one marker word gives at most 0.5).
    pub confidence: f32,
    /// Up to three languages with evidence, best first.
    pub candidates: Vec<Candidate>,
    /// The marker words that spoke for `language`, in caption order, at most eight.
    pub evidence: Vec<String>,
    /// Words read (at most [`MAX_WORDS_READ`]; hashtags, mentions, links and numbers are
    /// not words here).
    pub words_read: usize,
    /// Whether `language` is one its market's sellers write in (see
    /// [`market_languages`]); null without a market we know or without a language.
    pub fits_market: Option<bool>,
    /// How `language` was decided; null when it is null.
    pub method: Option<Method>,
}

/// The language of `caption`, with `market` (ISO 3166 alpha-2) breaking ties; the rules
/// alone.
pub fn detect_language(caption: &str, market: Option<&str>) -> LanguageGuess {
    detect_language_with(caption, market, None)
}

/// [`detect_language`], asking `model` where the rules abstain or are unsure.
pub fn detect_language_with(
    caption: &str,
    market: Option<&str>,
    model: Option<&dyn LanguageModel>,
) -> LanguageGuess {
    let market_langs = market.map_or(&[][..], market_languages);
    let words = words(caption);
    let mut guess = by_rules(&words, market_langs);
    let abstained = matches!(
        guess.undetermined,
        Some(Undetermined::NoMarkerWords | Undetermined::Tied)
    );
    let unsure = guess.method == Some(Method::Markers) && guess.confidence < RULES_SURE;
    if let (Some(model), true) = (model, abstained || unsure) {
        if let Some(answer) = by_model(model, &words, guess.script, market_langs) {
            guess = answer;
        }
    }
    guess.words_read = words.len();
    guess.confidence = hundredths(guess.confidence);
    guess.fits_market = match (guess.language, market_langs.is_empty()) {
        (Some(language), false) => Some(market_langs.contains(&language)),
        _ => None,
    };
    guess
}

fn by_rules(words: &[String], market_langs: &[Language]) -> LanguageGuess {
    let mut scripts = ScriptCounts::default();
    words
        .iter()
        .flat_map(|w| w.chars())
        .for_each(|c| scripts.add(c));
    match scripts.dominant() {
        None => undetermined(Undetermined::NoLetters, None),
        Some((script, n)) if script != Script::Latin => {
            let share = n as f32 / scripts.letters() as f32;
            match scripts.language(script) {
                Some(language) if share >= SCRIPT_SHARE => LanguageGuess {
                    language: Some(language),
                    undetermined: None,
                    script: Some(script),
                    confidence: share,
                    candidates: vec![Candidate {
                        language,
                        score: share,
                    }],
                    evidence: Vec::new(),
                    words_read: 0,
                    fits_market: None,
                    method: Some(Method::Script),
                },
                Some(_) => by_markers(words, market_langs, Some(script)),
                None => undetermined(Undetermined::UnknownScript, Some(script)),
            }
        }
        Some((script, _)) => by_markers(words, market_langs, Some(script)),
    }
}

/// Languages that share most of their words: the model cannot tell them apart any better
/// than the marker lists, so where the market speaks one and not the other, the market
/// decides, as it does for the rules, and the answer is no surer than a tie-break.
const SHARED_WORDS: &[(Language, Language)] = &[(Language::Ms, Language::Id)];
/// The confidence of a model answer the market decided between two such languages.
const MARKET_DECIDED: f32 = 0.6;

/// The model's answer over the caption's words, if its best language is written in the
/// caption's script and is likely enough.
fn by_model(
    model: &dyn LanguageModel,
    words: &[String],
    script: Option<Script>,
    market: &[Language],
) -> Option<LanguageGuess> {
    let script = script?;
    let ranked: Vec<(Language, f32)> = model
        .rank(&words.join(" "))
        .into_iter()
        .filter(|(language, _)| language.script() == script)
        .collect();
    let &(mut best, mut probability) = ranked.first()?;
    let sibling = SHARED_WORDS.iter().find_map(|&(a, b)| match best {
        l if l == a => Some(b),
        l if l == b => Some(a),
        _ => None,
    });
    if let Some(sibling) = sibling.filter(|s| market.contains(s) && !market.contains(&best)) {
        best = sibling;
        probability = probability.min(MARKET_DECIDED);
    }
    (probability >= MODEL_MIN_PROBABILITY).then(|| LanguageGuess {
        language: Some(best),
        undetermined: None,
        script: Some(script),
        confidence: probability,
        candidates: ranked
            .iter()
            .take(CANDIDATES)
            .map(|&(language, score)| Candidate {
                language,
                score: hundredths(score),
            })
            .collect(),
        evidence: Vec::new(),
        words_read: 0,
        fits_market: None,
        method: Some(Method::Model),
    })
}

fn undetermined(reason: Undetermined, script: Option<Script>) -> LanguageGuess {
    LanguageGuess {
        language: None,
        undetermined: Some(reason),
        script,
        confidence: 0.0,
        candidates: Vec::new(),
        evidence: Vec::new(),
        words_read: 0,
        fits_market: None,
        method: None,
    }
}

/// Lowercase letter runs of the caption's first [`MAX_WORDS_READ`] words, leaving out
/// hashtags, mentions, links and e-mail addresses (their words are names, not language).
fn words(caption: &str) -> Vec<String> {
    let mut words = Vec::new();
    for chunk in caption.split_whitespace() {
        if chunk.starts_with(['#', '@'])
            || chunk.contains("://")
            || chunk.starts_with("www.")
            || chunk.contains('@')
        {
            continue;
        }
        for run in chunk.split(|c: char| !c.is_alphabetic()) {
            if !run.is_empty() {
                words.push(run.to_lowercase());
                if words.len() == MAX_WORDS_READ {
                    return words;
                }
            }
        }
    }
    words
}

/// The Latin-script decision: marker words and telling letters, the market breaking ties.
fn by_markers(words: &[String], market: &[Language], script: Option<Script>) -> LanguageGuess {
    let mut scores: Vec<(Language, f32)> = Vec::new();
    let mut add =
        |language: Language, weight: f32| match scores.iter_mut().find(|(l, _)| *l == language) {
            Some((_, score)) => *score += weight,
            None => scores.push((language, weight)),
        };
    // The marker words in caption order, looked up once: they score here and are the
    // evidence once the best language is known.
    let mut marked: Vec<(&String, &[(Language, f32)])> = Vec::new();
    for word in words {
        if let Some(languages) = markers::marker(word) {
            languages.iter().for_each(|&(l, share)| add(l, share));
            marked.push((word, languages));
        }
        for c in word.chars() {
            if let Some(languages) = markers::telling_letter(c) {
                let share = 1.0 / languages.len() as f32;
                languages.iter().for_each(|&l| add(l, share));
            }
        }
    }
    if scores.iter().all(|(_, s)| *s < MIN_EVIDENCE) {
        return undetermined(Undetermined::NoMarkerWords, script);
    }
    for (language, score) in &mut scores {
        if market.contains(language) {
            *score += MARKET_PRIOR;
        }
    }
    scores.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let (best, best_score) = scores[0];
    if scores
        .get(1)
        .is_some_and(|&(_, second)| second == best_score)
    {
        let mut guess = undetermined(Undetermined::Tied, script);
        guess.candidates = candidates(&scores);
        return guess;
    }
    let evidence = marked
        .into_iter()
        .filter(|(_, languages)| languages.iter().any(|(l, _)| *l == best))
        .map(|(word, _)| word.clone())
        .take(EVIDENCE_WORDS)
        .collect();
    let total: f32 = scores.iter().map(|(_, s)| s).sum();
    LanguageGuess {
        language: Some(best),
        undetermined: None,
        script,
        confidence: best_score / total * (best_score / 2.0).min(1.0),
        candidates: candidates(&scores),
        evidence,
        words_read: 0,
        fits_market: None,
        method: Some(Method::Markers),
    }
}

fn candidates(scores: &[(Language, f32)]) -> Vec<Candidate> {
    scores
        .iter()
        .take(CANDIDATES)
        .map(|&(language, score)| Candidate {
            language,
            score: hundredths(score),
        })
        .collect()
}

/// Scores and confidences are reported to two decimals: more would claim a precision the
/// word lists do not have.
fn hundredths(value: f32) -> f32 {
    (value * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests;
