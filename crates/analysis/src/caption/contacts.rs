//! Hashtags, mentions, phone numbers and WhatsApp contacts.

use once_cell::sync::Lazy;
use regex::Regex;
use serde::{Deserialize, Serialize};

use super::text::{Kind, Text};

/// How a seller says to reach them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactKind {
    /// A phone number to call or text.
    Phone,
    /// A number marked as WhatsApp (a word, an emoji or a `wa.me` link).
    Whatsapp,
}

/// A phone candidate: `+` or `00` prefix optional, digits in groups split by space, dot, dash or brackets.
static PHONE: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"(?:\+|\b00)?\(?\d(?:[ .\-()]{0,2}\d){7,14}").expect("phone pattern is valid")
});

const CONTACT_WORDS: &[&str] = &[
    "call", "calls", "text", "sms", "tel", "phone", "contact", "contacts", "whatsapp", "watsapp",
    "whatsap", "wassap", "wa", "dm", "reach", "piga", "hubungi", "appel", "appelez", "llama",
    "llamar", "ligue", "ligar", "zap", "wasap", "whats", "mobile", "cell", "line", "inbox",
    "order", "orders", "no", "number", "num",
];
const WHATSAPP_WORDS: &[&str] = &[
    "whatsapp", "watsapp", "whatsap", "wassap", "wa", "zap", "wasap", "whats", "wapp", "watsap",
];
const WHATSAPP_EMOJI: &[&str] = &["📲", "💬", "🟢"];
const PHONE_EMOJI: &[&str] = &["📞", "☎", "☎️", "📱"];

/// A phone found in the normalised text, by byte range.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PhoneMatch {
    pub kind: ContactKind,
    pub value: String,
    pub start: usize,
    pub end: usize,
}

pub(crate) fn find_phones(text: &Text, market: Option<&str>) -> Vec<PhoneMatch> {
    let mut phones = Vec::new();
    for found in PHONE.find_iter(&text.norm) {
        let raw = found.as_str().trim_end_matches(['(', ')', ' ', '-', '.']);
        let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
        if !(9..=15).contains(&digits.len()) {
            continue;
        }
        let start = found.start();
        let end = start + raw.len();
        let in_url = text
            .tokens
            .iter()
            .any(|t| t.kind == Kind::Url && t.start <= start && end <= t.end);
        if in_url {
            continue;
        }
        let before = &text.norm[..start];
        let context_start = before.char_indices().rev().nth(30).map_or(0, |(i, _)| i);
        let context = super::text::fold(&text.norm[context_start..start]);
        let context_words: Vec<&str> = context
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect();
        let has_contact_word = context_words.iter().any(|w| CONTACT_WORDS.contains(w))
            || PHONE_EMOJI
                .iter()
                .chain(WHATSAPP_EMOJI)
                .any(|e| context.contains(e));
        let international = raw.starts_with('+') || raw.starts_with("00");
        let groups: Vec<&str> = raw
            .split(|c: char| !c.is_ascii_digit())
            .filter(|g| !g.is_empty())
            .collect();
        // "38 39 40 41 42" is a size list, "1,200,000" a price: neither is a phone.
        let phone_shaped = groups.iter().skip(1).all(|g| g.len() >= 3) && !raw.contains(',');
        let local = digits.starts_with('0') && digits.len() >= 10;
        let preceded_by_currency = text.norm[..start]
            .trim_end()
            .chars()
            .next_back()
            .is_some_and(|c| "$€£₦₹₱₵".contains(c));
        if preceded_by_currency || !(international || (phone_shaped && (local || has_contact_word)))
        {
            continue;
        }
        let whatsapp = context_words.iter().any(|w| WHATSAPP_WORDS.contains(w))
            || WHATSAPP_EMOJI.iter().any(|e| context.contains(e));
        phones.push(PhoneMatch {
            kind: if whatsapp {
                ContactKind::Whatsapp
            } else {
                ContactKind::Phone
            },
            value: to_e164(&digits, international, market),
            start,
            end,
        });
    }
    // wa.me links carry the number in international form.
    for (index, token) in text.tokens.iter().enumerate() {
        if token.kind != Kind::Url {
            continue;
        }
        let url = text.token_text(index).to_ascii_lowercase();
        if let Some(rest) = url.split("wa.me/").nth(1) {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            if (9..=15).contains(&digits.len()) {
                phones.push(PhoneMatch {
                    kind: ContactKind::Whatsapp,
                    value: format!("+{digits}"),
                    start: token.start,
                    end: token.end,
                });
            }
        }
    }
    phones
}

/// International form where we can know it: "+234…" as written, or a local "0…" number
/// with the market's calling code. Otherwise the digits as written.
fn to_e164(digits: &str, international: bool, market: Option<&str>) -> String {
    if international {
        return format!("+{}", digits.trim_start_matches("00"));
    }
    let code = market.and_then(calling_code);
    match (code, digits.strip_prefix('0')) {
        (Some(code), Some(national)) if code != "1" => format!("+{code}{national}"),
        (Some(code), None) if digits.starts_with(code) && digits.len() >= 11 => {
            format!("+{digits}")
        }
        _ => digits.to_owned(),
    }
}

fn calling_code(market: &str) -> Option<&'static str> {
    Some(match market.to_ascii_uppercase().as_str() {
        "NG" => "234",
        "KE" => "254",
        "UG" => "256",
        "TZ" => "255",
        "RW" => "250",
        "GH" => "233",
        "ZA" => "27",
        "IN" => "91",
        "PK" => "92",
        "GB" | "UK" => "44",
        "US" | "CA" => "1",
        "PH" => "63",
        "MY" => "60",
        "ID" => "62",
        "BR" => "55",
        "MX" => "52",
        "FR" => "33",
        "ES" => "34",
        "PT" => "351",
        "SN" => "221",
        "CI" => "225",
        "CM" => "237",
        "ZM" => "260",
        "ET" => "251",
        _ => return None,
    })
}

pub(crate) fn hashtags(text: &Text) -> Vec<String> {
    collect(text, Kind::Hashtag)
}

pub(crate) fn mentions(text: &Text) -> Vec<String> {
    collect(text, Kind::Mention)
}

fn collect(text: &Text, kind: Kind) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (index, token) in text.tokens.iter().enumerate() {
        if token.kind == kind {
            let value = text.token_text(index)[1..].to_lowercase();
            if !out.contains(&value) {
                out.push(value);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_with_market_calling_code() {
        let text = Text::new("Call or WhatsApp 0803 123 4567");
        let phones = find_phones(&text, Some("NG"));
        assert_eq!(phones.len(), 1);
        assert_eq!(phones[0].kind, ContactKind::Whatsapp);
        assert_eq!(phones[0].value, "+2348031234567");
    }

    #[test]
    fn sizes_and_prices_are_not_phones() {
        assert!(find_phones(&Text::new("sizes 38 39 40 41 42 43"), None).is_empty());
        assert!(find_phones(&Text::new("Price ₦1,200,000"), None).is_empty());
    }

    #[test]
    fn wa_me_links() {
        let phones = find_phones(&Text::new("order: wa.me/254712345678"), None);
        assert_eq!(phones[0].value, "+254712345678");
        assert_eq!(phones[0].kind, ContactKind::Whatsapp);
    }
}
