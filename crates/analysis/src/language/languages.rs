//! The languages we tell apart, and which of them each market's sellers write in.

use serde::{Deserialize, Serialize};

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

impl Language {
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

/// The languages sellers in a market (ISO 3166 alpha-2, any case) commonly write captions
/// in, most common first; empty for a market we have no table for. English is listed where
/// it is a language of trade, not everywhere: a Brazilian caption in English is news.
pub fn market_languages(market: &str) -> &'static [Language] {
    use Language::*;
    match market.to_ascii_uppercase().as_str() {
        "NG" | "GH" | "ZA" | "UG" | "RW" | "US" | "GB" | "CA" | "AU" | "NZ" | "IE" | "SG" => &[En],
        "KE" | "TZ" => &[En, Sw],
        "IN" => &[En, Hi],
        "PK" => &[En, Ur],
        "PH" => &[Tl, En],
        "ID" => &[Id],
        "MY" => &[Ms, En],
        "BR" | "PT" => &[Pt],
        "MX" | "CO" | "AR" | "ES" | "CL" | "PE" => &[Es],
        "FR" | "SN" | "CI" | "CM" | "BE" => &[Fr],
        "DE" | "AT" => &[De],
        "CH" => &[De, Fr, It],
        "IT" => &[It],
        "NL" => &[Nl],
        "TR" => &[Tr],
        "AE" | "SA" | "EG" | "MA" | "QA" | "KW" => &[Ar, En],
        "IR" => &[Fa],
        "IL" => &[He],
        "GR" => &[El],
        "RU" => &[Ru],
        "UA" => &[Uk, Ru],
        "TH" => &[Th],
        "KR" => &[Ko],
        "JP" => &[Ja],
        "CN" | "TW" | "HK" => &[Zh],
        _ => &[],
    }
}
