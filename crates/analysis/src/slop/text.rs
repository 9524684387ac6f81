//! Words and sentences with their positions, in bytes internally and in Unicode code points
//! (what Python's `text[start:end]` counts) at the API boundary.

#[derive(Debug, Clone)]
pub(crate) struct Word {
    pub start: usize,
    pub end: usize,
    /// Lower case.
    pub lower: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Sentence {
    pub start: usize,
    pub end: usize,
    /// Indices into `Document::words`.
    pub words: std::ops::Range<usize>,
}

pub(crate) struct Document<'a> {
    pub text: &'a str,
    pub words: Vec<Word>,
    pub sentences: Vec<Sentence>,
    /// Byte offset → code point offset, for every char boundary.
    char_index: Vec<usize>,
}

impl<'a> Document<'a> {
    pub fn new(text: &'a str) -> Self {
        let mut char_index = vec![0; text.len() + 1];
        let mut count = 0;
        for (byte, c) in text.char_indices() {
            for slot in &mut char_index[byte..byte + c.len_utf8()] {
                *slot = count;
            }
            count += 1;
        }
        char_index[text.len()] = count;

        let mut words = Vec::new();
        let mut start = None;
        for (i, c) in text.char_indices() {
            let inner = (c == '\'' || c == '’' || c == '-') && start.is_some();
            if c.is_alphanumeric() || inner {
                start.get_or_insert(i);
            } else if let Some(s) = start.take() {
                words.push(word(text, s, i));
            }
        }
        if let Some(s) = start {
            words.push(word(text, s, text.len()));
        }

        let sentences = split_sentences(text, &words);
        Self {
            text,
            words,
            sentences,
            char_index,
        }
    }

    pub fn chars(&self, byte: usize) -> usize {
        self.char_index[byte.min(self.text.len())]
    }

    pub fn sentence_text(&self, sentence: &Sentence) -> &'a str {
        &self.text[sentence.start..sentence.end]
    }

    pub fn sentence_words(&self, sentence: &Sentence) -> &[Word] {
        &self.words[sentence.words.clone()]
    }
}

fn word(text: &str, start: usize, end: usize) -> Word {
    let raw = text[start..end].trim_end_matches(['\'', '’', '-']);
    let end = start + raw.len();
    Word {
        start,
        end,
        lower: raw.to_lowercase().replace('’', "'"),
    }
}

/// Sentences end at `.`, `!`, `?` followed by space or end, and at line breaks; list items
/// are sentences of their own. Abbreviations like "e.g." and decimals do not end one.
fn split_sentences(text: &str, words: &[Word]) -> Vec<Sentence> {
    let bytes = text.as_bytes();
    let mut boundaries = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let end_mark = matches!(c, b'.' | b'!' | b'?');
        let next_is_space = bytes.get(i + 1).is_none_or(|n| n.is_ascii_whitespace());
        if c == b'\n' || (end_mark && next_is_space && !is_abbreviation(text, i)) {
            boundaries.push(i + 1);
        }
        i += 1;
    }
    boundaries.push(text.len());

    let mut sentences = Vec::new();
    let mut start = 0;
    let mut word_index = 0;
    for end in boundaries {
        if end <= start {
            continue;
        }
        let first = word_index;
        while word_index < words.len() && words[word_index].end <= end {
            word_index += 1;
        }
        if word_index > first {
            let slice = &text[start..end];
            let lead = slice.len() - slice.trim_start().len();
            let trail = slice.len() - slice.trim_end().len();
            sentences.push(Sentence {
                start: start + lead,
                end: end - trail,
                words: first..word_index,
            });
        }
        start = end;
    }
    sentences
}

fn is_abbreviation(text: &str, dot: usize) -> bool {
    let before = &text[..dot];
    let last = before
        .rsplit(|c: char| !c.is_alphanumeric() && c != '.')
        .next()
        .unwrap_or("");
    let lower = last.to_lowercase();
    matches!(
        lower.as_str(),
        "e.g" | "i.e" | "etc" | "vs" | "mr" | "mrs" | "ms" | "dr" | "prof" | "st" | "no" | "fig"
    ) || (last.len() == 1 && last.chars().all(|c| c.is_ascii_uppercase()))
}

/// Syllables in an English word: vowel groups, minus a silent final "e", at least one.
pub(crate) fn syllables(word: &str) -> usize {
    let w: Vec<char> = word
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphabetic())
        .collect();
    if w.is_empty() {
        return 0;
    }
    let vowel = |c: char| matches!(c, 'a' | 'e' | 'i' | 'o' | 'u' | 'y');
    let mut count = 0;
    let mut previous = false;
    for &c in &w {
        let v = vowel(c);
        if v && !previous {
            count += 1;
        }
        previous = v;
    }
    let n = w.len();
    // "make", "done": a final e after a consonant is silent, but "-le" keeps its syllable ("table").
    let consonant_le = n > 2 && w[n - 2] == 'l' && !vowel(w[n - 3]);
    if n > 2 && w[n - 1] == 'e' && !vowel(w[n - 2]) && !consonant_le {
        count -= 1;
    }
    // "-ed" after anything but t/d is silent ("jumped", but "wanted").
    if n > 3
        && w[n - 2] == 'e'
        && w[n - 1] == 'd'
        && !matches!(w[n - 3], 't' | 'd')
        && !vowel(w[n - 3])
    {
        count -= 1;
    }
    count.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_and_words_keep_their_positions() {
        let text = "Héllo wörld. This is e.g. fine! Is it 3.5 or not?\n- a list item";
        let doc = Document::new(text);
        let sentences: Vec<&str> = doc.sentences.iter().map(|s| doc.sentence_text(s)).collect();
        assert_eq!(
            sentences,
            [
                "Héllo wörld.",
                "This is e.g. fine!",
                "Is it 3.5 or not?",
                "- a list item"
            ]
        );
        let second = &doc.words[1];
        assert_eq!(&text[second.start..second.end], "wörld");
        // Code points, as Python counts them: "Héllo " is 6.
        assert_eq!(doc.chars(second.start), 6);
    }

    #[test]
    fn syllable_counts() {
        for (word, n) in [
            ("table", 2),
            ("make", 1),
            ("beautiful", 3),
            ("jumped", 1),
            ("wanted", 2),
            ("the", 1),
            ("leverage", 3),
            ("synergy", 3),
            ("a", 1),
            ("rhythm", 1),
        ] {
            assert_eq!(syllables(word), n, "{word}");
        }
    }
}
