//! KeyBERT-style keyphrases without extra model calls: a candidate phrase's vector is the
//! mean of its tokens' contextual vectors from the one forward pass that embedded the
//! caption, scored by cosine to the caption, then picked with MMR for diversity.

use super::lexicon::{GENERIC_HASHTAGS, STOPWORDS};
use super::{EncodedText, TokenVector};
use crate::fold::fold;
use crate::vector::dot;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Keyword {
    pub phrase: String,
    pub score: f32,
}

/// Relevance versus novelty in MMR.
const MMR_LAMBDA: f32 = 0.7;
const MAX_WORDS: usize = 3;

struct Candidate {
    phrase: String,
    start: usize,
    end: usize,
    /// Order of first appearance, for the model-free fallback.
    position: usize,
}

pub(crate) fn extract(text: &str, encoded: Option<&EncodedText>, k: usize) -> Vec<Keyword> {
    let candidates = candidates(text);
    if candidates.is_empty() || k == 0 {
        return Vec::new();
    }
    let Some(encoded) = encoded.filter(|e| !e.tokens.is_empty() && !e.sentence.is_empty()) else {
        // Without vectors: earlier and longer phrases first, a modest score.
        let mut ranked: Vec<&Candidate> = candidates.iter().collect();
        ranked.sort_by_key(|c| (c.position, std::cmp::Reverse(c.phrase.len())));
        return ranked
            .into_iter()
            .take(k)
            .map(|c| Keyword {
                phrase: c.phrase.clone(),
                score: 0.3,
            })
            .collect();
    };

    let vectors: Vec<Option<Vec<f32>>> = candidates
        .iter()
        .map(|c| phrase_vector(&encoded.tokens, c.start, c.end))
        .collect();
    let relevance: Vec<f32> = vectors
        .iter()
        .map(|v| v.as_ref().map_or(f32::MIN, |v| dot(v, &encoded.sentence)))
        .collect();

    let mut chosen: Vec<usize> = Vec::new();
    while chosen.len() < k {
        let mut best: Option<(usize, f32)> = None;
        for (i, vector) in vectors.iter().enumerate() {
            let Some(vector) = vector else { continue };
            if chosen.contains(&i)
                || chosen
                    .iter()
                    .any(|&j| overlaps(&candidates[i].phrase, &candidates[j].phrase))
            {
                continue;
            }
            let redundancy = chosen
                .iter()
                .filter_map(|&j| vectors[j].as_ref().map(|other| dot(vector, other)))
                .fold(0.0f32, f32::max);
            let mmr = MMR_LAMBDA * relevance[i] - (1.0 - MMR_LAMBDA) * redundancy;
            if best.is_none_or(|(_, score)| mmr > score) {
                best = Some((i, mmr));
            }
        }
        let Some((index, _)) = best else { break };
        chosen.push(index);
    }
    chosen
        .into_iter()
        .map(|i| Keyword {
            phrase: candidates[i].phrase.clone(),
            score: relevance[i].clamp(0.0, 1.0),
        })
        .collect()
}

/// "s-xl", "xxl", "m": sizes, which the caption parser reports; not keywords.
fn is_letter_size(word: &str) -> bool {
    word.len() <= 7
        && word
            .chars()
            .all(|c| matches!(c, 's' | 'm' | 'l' | 'x' | '-'))
}

/// Phrases that share a word are near-duplicates ("leather bag", "bag").
fn overlaps(a: &str, b: &str) -> bool {
    a.split(' ').any(|w| b.split(' ').any(|x| x == w))
}

/// Unit-length mean of the token vectors inside `[start, end)`.
fn phrase_vector(tokens: &[TokenVector], start: usize, end: usize) -> Option<Vec<f32>> {
    let inside: Vec<&TokenVector> = tokens
        .iter()
        .filter(|t| t.start >= start && t.end <= end && t.end > t.start)
        .collect();
    let first = inside.first()?;
    let mut mean = vec![0.0f32; first.vector.len()];
    for token in &inside {
        for (m, v) in mean.iter_mut().zip(&token.vector) {
            *m += v;
        }
    }
    let norm = mean.iter().map(|v| v * v).sum::<f32>().sqrt();
    if norm == 0.0 {
        return None;
    }
    mean.iter_mut().for_each(|v| *v /= norm);
    Some(mean)
}

/// Runs of content words (no stop words, numbers, prices or symbols) split at
/// punctuation, and their 1–3 word n-grams, each with its byte range in `text`.
fn candidates(text: &str) -> Vec<Candidate> {
    let mut runs: Vec<Vec<(usize, usize, String)>> = vec![Vec::new()];
    let mut word_start: Option<usize> = None;
    let push_word = |runs: &mut Vec<Vec<(usize, usize, String)>>, start: usize, end: usize| {
        let word = fold(&text[start..end]);
        let content = word.chars().count() > 1
            && word
                .chars()
                .all(|c| c.is_alphabetic() || c == '-' || c == '\'')
            && !STOPWORDS.contains(&word.as_str())
            && !GENERIC_HASHTAGS.contains(&word.as_str())
            && !is_letter_size(&word);
        if content {
            if let Some(run) = runs.last_mut() {
                run.push((start, end, word));
            }
        } else {
            runs.push(Vec::new());
        }
    };
    for (index, c) in text.char_indices() {
        let in_word = c.is_alphanumeric() || ((c == '-' || c == '\'') && word_start.is_some());
        match (in_word, word_start) {
            (true, None) => word_start = Some(index),
            (false, Some(start)) => {
                push_word(&mut runs, start, index);
                word_start = None;
                if !c.is_whitespace() {
                    runs.push(Vec::new());
                }
            }
            (false, None) if !c.is_whitespace() => runs.push(Vec::new()),
            _ => {}
        }
    }
    if let Some(start) = word_start {
        push_word(&mut runs, start, text.len());
    }

    let mut candidates: Vec<Candidate> = Vec::new();
    for run in runs.iter().filter(|r| !r.is_empty()) {
        for n in 1..=MAX_WORDS.min(run.len()) {
            for window in run.windows(n) {
                let phrase = window
                    .iter()
                    .map(|(_, _, w)| w.as_str())
                    .collect::<Vec<_>>()
                    .join(" ");
                if candidates.iter().any(|c| c.phrase == phrase) {
                    continue;
                }
                let position = candidates.len();
                candidates.push(Candidate {
                    phrase,
                    start: window[0].0,
                    end: window[n - 1].1,
                    position,
                });
            }
        }
    }
    candidates
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_skip_stop_words_numbers_and_cross_no_punctuation() {
        let phrases: Vec<String> = candidates("Red leather handbag, price ₦15,000. DM now!")
            .into_iter()
            .map(|c| c.phrase)
            .collect();
        assert!(
            phrases.contains(&"red leather handbag".to_owned()),
            "{phrases:?}"
        );
        assert!(phrases.contains(&"handbag".to_owned()));
        assert!(!phrases
            .iter()
            .any(|p| p.contains("price") || p.contains("dm") || p.contains("15")));
    }

    #[test]
    fn byte_ranges_cover_the_phrase() {
        let text = "Robe d'été fleurie";
        for candidate in candidates(text) {
            assert_eq!(
                fold(&text[candidate.start..candidate.end])
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" "),
                candidate.phrase
            );
        }
    }

    #[test]
    fn mmr_prefers_relevant_and_diverse_phrases() {
        // Two tokens: "silk" aligned with the sentence, "scarf" orthogonal to it.
        let text = "silk scarf";
        let encoded = EncodedText {
            sentence: vec![1.0, 0.0],
            tokens: vec![
                TokenVector {
                    start: 0,
                    end: 4,
                    vector: vec![1.0, 0.0],
                },
                TokenVector {
                    start: 5,
                    end: 10,
                    vector: vec![0.0, 1.0],
                },
            ],
        };
        let keywords = extract(text, Some(&encoded), 2);
        assert_eq!(keywords[0].phrase, "silk");
        // "silk scarf" shares a word with "silk": the second pick is "scarf".
        assert_eq!(keywords.len(), 2);
        assert_eq!(keywords[1].phrase, "scarf");
    }
}
