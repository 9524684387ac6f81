//! The languages we tell apart, and which of them each market's sellers write in.

use serde::{Deserialize, Serialize};

use super::Script;

/// A language, serialised as its ISO 639-1 code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[allow(missing_docs)] // each variant is its ISO 639-1 code
pub enum Language {
    Ar,
    De,
    El,
    En,
    Es,
    Fa,
    Fr,
    He,
    Hi,
    Id,
    It,
    Ja,
    Ko,
    Ms,
    Nl,
    Pt,
    Ru,
    Sw,
    Th,
    Tl,
    Tr,
    Uk,
    Ur,
    Zh,
}

/// Every language we tell apart.
pub const ALL: [Language; 24] = [
    Language::Ar,
    Language::De,
    Language::El,
    Language::En,
    Language::Es,
    Language::Fa,
    Language::Fr,
    Language::He,
    Language::Hi,
    Language::Id,
    Language::It,
    Language::Ja,
    Language::Ko,
    Language::Ms,
    Language::Nl,
    Language::Pt,
    Language::Ru,
    Language::Sw,
    Language::Th,
    Language::Tl,
    Language::Tr,
    Language::Uk,
    Language::Ur,
    Language::Zh,
];

impl Language {
    /// The script its captions are written in.
    pub fn script(self) -> Script {
        match self {
            Language::Ar | Language::Fa | Language::Ur => Script::Arabic,
            Language::Ru | Language::Uk => Script::Cyrillic,
            Language::El => Script::Greek,
            Language::He => Script::Hebrew,
            Language::Hi => Script::Devanagari,
            Language::Th => Script::Thai,
            Language::Ko => Script::Hangul,
            Language::Ja => Script::Kana,
            Language::Zh => Script::Han,
            _ => Script::Latin,
        }
    }

    /// The language of an ISO 639-1 code, if it is one we tell apart.
    pub fn from_code(code: &str) -> Option<Language> {
        ALL.iter().copied().find(|language| language.code() == code)
    }

    /// The ISO 639-1 code.
    pub fn code(self) -> &'static str {
        match self {
            Language::Ar => "ar",
            Language::De => "de",
            Language::El => "el",
            Language::En => "en",
            Language::Es => "es",
            Language::Fa => "fa",
            Language::Fr => "fr",
            Language::He => "he",
            Language::Hi => "hi",
            Language::Id => "id",
            Language::It => "it",
            Language::Ja => "ja",
            Language::Ko => "ko",
            Language::Ms => "ms",
            Language::Nl => "nl",
            Language::Pt => "pt",
            Language::Ru => "ru",
            Language::Sw => "sw",
            Language::Th => "th",
            Language::Tl => "tl",
            Language::Tr => "tr",
            Language::Uk => "uk",
            Language::Ur => "ur",
            Language::Zh => "zh",
        }
    }
}

/// The languages sellers in each market (ISO 3166 alpha-2) commonly write captions in, most
/// common first. English is listed where it is a language of trade, not everywhere: a
/// Brazilian caption in English is news. Also the list of markets the parsers know (every
/// one has a currency: `caption::market_currency`).
pub const MARKET_LANGUAGES: &[(&[&str], &[Language])] = &[
    (
        &[
            "NG", "GH", "ZA", "UG", "RW", "US", "GB", "CA", "AU", "NZ", "IE", "SG",
        ],
        &[Language::En],
    ),
    (&["KE", "TZ"], &[Language::En, Language::Sw]),
    (&["IN"], &[Language::En, Language::Hi]),
    (&["PK"], &[Language::En, Language::Ur]),
    (&["PH"], &[Language::Tl, Language::En]),
    (&["ID"], &[Language::Id]),
    (&["MY"], &[Language::Ms, Language::En]),
    (&["BR", "PT"], &[Language::Pt]),
    (&["MX", "CO", "AR", "ES", "CL", "PE"], &[Language::Es]),
    (&["FR", "SN", "CI", "CM", "BE"], &[Language::Fr]),
    (&["DE", "AT"], &[Language::De]),
    (&["CH"], &[Language::De, Language::Fr, Language::It]),
    (&["IT"], &[Language::It]),
    (&["NL"], &[Language::Nl]),
    (&["TR"], &[Language::Tr]),
    (
        &["AE", "SA", "EG", "MA", "QA", "KW"],
        &[Language::Ar, Language::En],
    ),
    (&["IR"], &[Language::Fa]),
    (&["IL"], &[Language::He]),
    (&["GR"], &[Language::El]),
    (&["RU"], &[Language::Ru]),
    (&["UA"], &[Language::Uk, Language::Ru]),
    (&["TH"], &[Language::Th]),
    (&["KR"], &[Language::Ko]),
    (&["JP"], &[Language::Ja]),
    (&["CN", "TW", "HK"], &[Language::Zh]),
];

/// The languages of `market` (any case) from [`MARKET_LANGUAGES`]; empty for a market we have
/// no table for.
pub fn market_languages(market: &str) -> &'static [Language] {
    let upper = market.to_ascii_uppercase();
    MARKET_LANGUAGES
        .iter()
        .find(|(markets, _)| markets.contains(&upper.as_str()))
        .map_or(&[], |(_, languages)| languages)
}
