//! Writing systems, from Unicode blocks. A caption in a script only one or two of our
//! languages use is decided by its letters, before any word list is read.

use serde::{Deserialize, Serialize};

use super::Language;

/// The writing system of a caption's letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Script {
    /// Latin letters, Vietnamese and other extended Latin included.
    Latin,
    /// Cyrillic.
    Cyrillic,
    /// Greek.
    Greek,
    /// Arabic, with the Persian and Urdu letters.
    Arabic,
    /// Hebrew.
    Hebrew,
    /// Devanagari.
    Devanagari,
    /// Thai.
    Thai,
    /// Hangul.
    Hangul,
    /// Hiragana and katakana (Japanese captions mix them with Han).
    Kana,
    /// Han ideographs.
    Han,
    /// Letters of any other script.
    Other,
}

impl Script {
    /// The script of one letter (`c.is_alphabetic()` is the caller's test).
    pub fn of(c: char) -> Script {
        match u32::from(c) {
            0x0041..=0x024F | 0x1E00..=0x1EFF => Script::Latin,
            0x0370..=0x03FF | 0x1F00..=0x1FFF => Script::Greek,
            0x0400..=0x052F => Script::Cyrillic,
            0x0590..=0x05FF => Script::Hebrew,
            0x0600..=0x06FF | 0x0750..=0x077F | 0xFB50..=0xFDFF | 0xFE70..=0xFEFF => Script::Arabic,
            0x0900..=0x097F => Script::Devanagari,
            0x0E00..=0x0E7F => Script::Thai,
            0x1100..=0x11FF | 0x3130..=0x318F | 0xAC00..=0xD7AF => Script::Hangul,
            0x3040..=0x30FF | 0x31F0..=0x31FF | 0xFF66..=0xFF9F => Script::Kana,
            0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF => Script::Han,
            _ => Script::Other,
        }
    }
}

/// Letters per script in one text.
#[derive(Debug, Default)]
pub(super) struct ScriptCounts {
    counts: Vec<(Script, usize)>,
    /// Ukrainian's і ї є ґ, absent from Russian.
    ukrainian_letters: usize,
    /// Urdu's ٹ ڈ ڑ ں ے ھ, absent from Arabic and Persian.
    urdu_letters: usize,
    /// Persian's پ چ ژ گ, absent from Arabic, and its own yeh ی and keheh ک (U+06CC,
    /// U+06A9), which Persian writes where Arabic writes ي and ك (Urdu shares them, but is
    /// told by its own letters first).
    persian_letters: usize,
}

impl ScriptCounts {
    pub(super) fn add(&mut self, c: char) {
        let script = Script::of(c);
        match self.counts.iter_mut().find(|(s, _)| *s == script) {
            Some((_, n)) => *n += 1,
            None => self.counts.push((script, 1)),
        }
        match c {
            'і' | 'ї' | 'є' | 'ґ' | 'І' | 'Ї' | 'Є' | 'Ґ' => self.ukrainian_letters += 1,
            'ٹ' | 'ڈ' | 'ڑ' | 'ں' | 'ے' | 'ھ' => self.urdu_letters += 1,
            'پ' | 'چ' | 'ژ' | 'گ' | '\u{06CC}' | '\u{06A9}' => self.persian_letters += 1,
            _ => {}
        }
    }

    pub(super) fn letters(&self) -> usize {
        self.counts.iter().map(|(_, n)| n).sum()
    }

    fn count(&self, script: Script) -> usize {
        self.counts
            .iter()
            .find(|(s, _)| *s == script)
            .map_or(0, |(_, n)| *n)
    }

    /// The script with the most letters; Japanese's Kana and Han count together as Kana
    /// when there is any kana, since Japanese text is mostly Han.
    pub(super) fn dominant(&self) -> Option<(Script, usize)> {
        let kana = self.count(Script::Kana);
        self.counts
            .iter()
            .map(|&(script, n)| match script {
                Script::Kana => (Script::Kana, n + self.count(Script::Han)),
                Script::Han if kana > 0 => (Script::Kana, n + kana),
                _ => (script, n),
            })
            .max_by_key(|&(script, n)| (n, script == Script::Kana))
    }

    /// The language a non-Latin script decides, with the letters that tell the languages
    /// sharing it apart; `None` for Latin (word lists decide) and for scripts we do not read.
    pub(super) fn language(&self, script: Script) -> Option<Language> {
        Some(match script {
            Script::Cyrillic if self.ukrainian_letters > 0 => Language::Uk,
            Script::Cyrillic => Language::Ru,
            Script::Arabic if self.urdu_letters > 0 => Language::Ur,
            Script::Arabic if self.persian_letters > 0 => Language::Fa,
            Script::Arabic => Language::Ar,
            Script::Greek => Language::El,
            Script::Hebrew => Language::He,
            Script::Devanagari => Language::Hi,
            Script::Thai => Language::Th,
            Script::Hangul => Language::Ko,
            Script::Kana => Language::Ja,
            Script::Han => Language::Zh,
            Script::Latin | Script::Other => return None,
        })
    }
}
