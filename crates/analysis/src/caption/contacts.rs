//! Hashtags, mentions, phone numbers and WhatsApp contacts.

use once_cell::sync::Lazy;
use regex::Regex;
use serde::{Deserialize, Serialize};

use rlibphonenumber::{PhoneNumberFormat, Region, PHONE_NUMBER_UTIL};

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
    "call",
    "calls",
    "text",
    "sms",
    "tel",
    "phone",
    "contact",
    "contacts",
    "whatsapp",
    "watsapp",
    "whatsap",
    "wassap",
    "wa",
    "dm",
    "reach",
    "piga",
    "hubungi",
    "hub",
    "appel",
    "appelez",
    "llama",
    "llamar",
    "llama",
    "escribe",
    "escribenos",
    "ligue",
    "ligar",
    "zap",
    "wasap",
    "whats",
    "mobile",
    "cell",
    "line",
    "inbox",
    "order",
    "orders",
    "no",
    "number",
    "num",
    "zalo",
    "viber",
    "telegram",
    "goi",
    "tel",
    "телефон",
    "тел",
    "звоните",
    "звонить",
    "โทร",
    "واتساب",
    "اتصل",
    "ara",
    "arayin",
    "telefon",
    "telefono",
    "chiama",
    "anrufen",
    "contato",
    "gcash",
    "momo",
    "mpesa",
    "text",
    "viber",
    "kontak",
];
const WHATSAPP_WORDS: &[&str] = &[
    "whatsapp",
    "watsapp",
    "whatsap",
    "wassap",
    "wa",
    "zap",
    "wasap",
    "whats",
    "wapp",
    "watsap",
    "واتساب",
];
/// Words right before a number that make it an identifier, never a phone: accounts, cards,
/// payment ids, tracking and order references.
const IDENTIFIER_WORDS: &[&str] = &[
    "acc",
    "account",
    "acct",
    "iban",
    "swift",
    "bic",
    "tracking",
    "track",
    "awb",
    "resi",
    "invoice",
    "inv",
    "ref",
    "reference",
    "till",
    "paybill",
    "card",
    "cuenta",
    "cta",
    "chave",
    "cpf",
    "cnpj",
    "upi",
    "rastreo",
    "guia",
    "tracciamento",
    "sendungsnummer",
    "bestellnummer",
    "заказ",
    "картку",
    "карта",
    "siparis",
    "commande",
    "pedido",
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

/// The phone-like numbers of a caption: the phones to report, and the byte ranges of numbers
/// shaped like phones that are not one (orders, accounts, tracking ids, numbers no numbering
/// plan has), which are not prices or sizes either.
#[derive(Debug, Default)]
pub(crate) struct PhoneNumbers {
    pub phones: Vec<PhoneMatch>,
    pub identifiers: Vec<(usize, usize)>,
}

/// Phone candidates are found by shape and context, then validated and formatted to E.164 by
/// libphonenumber's metadata (`rlibphonenumber`) for the market, or for their own country
/// code when written internationally. Without a market a national number cannot be
/// validated: it is reported as written when its shape and context say phone.
pub(crate) fn find_phones(text: &Text, market: Option<&str>) -> PhoneNumbers {
    let region = market.and_then(|m| m.to_ascii_uppercase().parse::<Region>().ok());
    let mut found_numbers = PhoneNumbers::default();
    for found in PHONE.find_iter(&text.norm) {
        let raw = found.as_str().trim_end_matches(['(', ')', ' ', '-', '.']);
        let mut reading = read_candidate(text, found.start(), raw, region);
        // A number ending a sentence runs into the next ("size 10 12. 0722 000 111"): when
        // the whole is no phone, the part after the sentence break may be.
        if !matches!(reading, Reading::Phone(_)) {
            if let Some(at) = raw.find(". ").or_else(|| raw.find(", ")) {
                let rest = raw[at + 1..].trim_start();
                let rest_start = found.start() + raw.len() - rest.len();
                if let phone @ Reading::Phone(_) = read_candidate(text, rest_start, rest, region) {
                    reading = phone;
                }
            }
        }
        match reading {
            Reading::Phone(phone) => found_numbers.push(phone),
            Reading::Identifier(start, end) => found_numbers.identifiers.push((start, end)),
            Reading::Neither => {}
        }
    }
    // wa.me links carry the number in international form.
    for (index, token) in text.tokens.iter().enumerate() {
        if token.kind != Kind::Url {
            continue;
        }
        let url = text.token_text(index).to_ascii_lowercase();
        if let Some(rest) = url.split("wa.me/").nth(1) {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            if let Some(value) = valid_e164(&digits, &digits, true, Region::ZZ) {
                found_numbers.push(PhoneMatch {
                    kind: ContactKind::Whatsapp,
                    value,
                    start: token.start,
                    end: token.end,
                });
            }
        }
    }
    found_numbers
}

/// What one candidate (`raw`, at byte `start` of the normalised text) is.
enum Reading {
    Phone(PhoneMatch),
    /// Shaped like a phone but not one: claimed so that it is not read as a price or size.
    Identifier(usize, usize),
    Neither,
}

fn read_candidate(text: &Text, start: usize, raw: &str, region: Option<Region>) -> Reading {
    let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
    if !(8..=15).contains(&digits.len()) {
        return Reading::Neither;
    }
    let end = start + raw.len();
    let in_url = text
        .tokens
        .iter()
        .any(|t| t.kind == Kind::Url && t.start <= start && end <= t.end);
    let before = &text.norm[..start];
    let last = before.trim_end().chars().next_back();
    let preceded_by_currency =
        last.is_some_and(|c| super::currency::sign(c.encode_utf8(&mut [0; 4])).is_some());
    if in_url || preceded_by_currency {
        return Reading::Neither;
    }
    // Glued to letters or a '#': a code ("KE123456789", "INV-0045123", "#20451789").
    let glued = match before.chars().next_back() {
        Some('#') => true,
        Some('-') => before[..before.len() - 1]
            .chars()
            .next_back()
            .is_some_and(char::is_alphanumeric),
        Some(c) => c.is_alphanumeric(),
        None => false,
    };
    let context_start = before.char_indices().rev().nth(30).map_or(0, |(i, _)| i);
    let context = crate::fold::fold(&text.norm[context_start..start]);
    let context_words: Vec<&str> = context
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let has_contact_word = context_words.iter().any(|w| CONTACT_WORDS.contains(w))
        || PHONE_EMOJI
            .iter()
            .chain(WHATSAPP_EMOJI)
            .any(|e| context.contains(e));
    // The words right before the number: "Meezan acc 0123…", "tracking no. 7755…".
    let names_an_identifier = glued
        || context_words
            .iter()
            .rev()
            .take(3)
            .any(|w| IDENTIFIER_WORDS.contains(w));
    let international = raw.starts_with('+') || raw.starts_with("00");
    let groups: Vec<&str> = raw
        .split(|c: char| !c.is_ascii_digit())
        .filter(|g| !g.is_empty())
        .collect();
    // "38 39 40 41 42" is a size list, "1,200,000" a price: neither is a phone.
    let phone_shaped = groups.iter().skip(1).all(|g| g.len() >= 3) && !raw.contains(',');
    // A trunk prefix ("0…" in most plans, "8…" in Russia's) or an area code in brackets.
    let national = (digits.starts_with('0') && digits.len() >= 10)
        || (digits.starts_with('8') && digits.len() == 11)
        || raw.starts_with('(');
    let shaped = international || (phone_shaped && (national || has_contact_word));
    // Two-digit groups ("06 12 34 56 78", "0532 123 45 67") are phones only with a trunk
    // prefix or a contact word, and only once a numbering plan accepts them.
    let plausible = shaped || (!raw.contains(',') && (national || has_contact_word));
    let value = match (names_an_identifier, plausible, region) {
        (true, _, _) | (_, false, _) => None,
        (false, true, Some(region)) => valid_e164(raw, &digits, international, region),
        (false, true, None) if international => valid_e164(raw, &digits, true, Region::ZZ),
        (false, true, None) => shaped.then(|| digits.clone()),
    };
    let Some(value) = value else {
        return if shaped || names_an_identifier {
            Reading::Identifier(start, end)
        } else {
            Reading::Neither
        };
    };
    let whatsapp = context_words.iter().any(|w| WHATSAPP_WORDS.contains(w))
        || WHATSAPP_EMOJI.iter().any(|e| context.contains(e));
    Reading::Phone(PhoneMatch {
        kind: if whatsapp {
            ContactKind::Whatsapp
        } else {
            ContactKind::Phone
        },
        value,
        start,
        end,
    })
}

impl PhoneNumbers {
    /// Adds `phone` unless its number is already there (a UPI id and a "call" line naming
    /// the same phone); a WhatsApp mention of it wins over a plain one.
    fn push(&mut self, phone: PhoneMatch) {
        match self.phones.iter_mut().find(|p| p.value == phone.value) {
            Some(known) => {
                if phone.kind == ContactKind::Whatsapp {
                    known.kind = ContactKind::Whatsapp;
                }
                self.identifiers.push((phone.start, phone.end));
            }
            None => self.phones.push(phone),
        }
    }
}

/// `raw` as a number valid in libphonenumber's metadata, in E.164: national numbers in
/// `region`, international ones in their own country (`Region::ZZ`: none assumed). A
/// national number written with its country code but no "+" ("2348031234567") is read as
/// international when that gives a number of `region`.
fn valid_e164(raw: &str, digits: &str, international: bool, region: Region) -> Option<String> {
    let valid = |text: &str, region: Region| {
        PHONE_NUMBER_UTIL
            .parse(text, (region != Region::ZZ).then_some(region))
            .ok()
            .filter(|number| number.is_valid())
    };
    if international {
        let plus = format!("+{}", digits.strip_prefix("00").unwrap_or(digits));
        // Mexico dropped the "1" before mobile numbers in 2019; sellers still write it.
        let legacy_mexican = plus
            .strip_prefix("+521")
            .filter(|rest| rest.len() == 10)
            .map(|rest| format!("+52{rest}"));
        return valid(&plus, Region::ZZ)
            .or_else(|| legacy_mexican.and_then(|plus| valid(&plus, Region::ZZ)))
            .map(|n| n.format_as(PhoneNumberFormat::E164).to_string());
    }
    valid(raw, region)
        .or_else(|| {
            valid(&format!("+{digits}"), Region::ZZ).filter(|n| n.get_region_code() == Some(region))
        })
        .map(|n| n.format_as(PhoneNumberFormat::E164).to_string())
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
        let phones = find_phones(&text, Some("NG")).phones;
        assert_eq!(phones.len(), 1);
        assert_eq!(phones[0].kind, ContactKind::Whatsapp);
        assert_eq!(phones[0].value, "+2348031234567");
    }

    #[test]
    fn sizes_and_prices_are_not_phones() {
        assert!(find_phones(&Text::new("sizes 38 39 40 41 42 43"), None)
            .phones
            .is_empty());
        assert!(find_phones(&Text::new("Price ₦1,200,000"), None)
            .phones
            .is_empty());
    }

    #[test]
    fn wa_me_links() {
        let phones = find_phones(&Text::new("order: wa.me/254712345678"), None).phones;
        assert_eq!(phones[0].value, "+254712345678");
        assert_eq!(phones[0].kind, ContactKind::Whatsapp);
    }

    fn phone_values(caption: &str, market: &str) -> Vec<String> {
        find_phones(&Text::new(caption), Some(market))
            .phones
            .into_iter()
            .map(|p| p.value)
            .collect()
    }

    /// Validated by libphonenumber's metadata for the market, written as sellers write them.
    #[test]
    fn numbering_plans_decide_what_is_a_phone() {
        assert_eq!(phone_values("appel 06 12 34 56 78", "FR"), ["+33612345678"]);
        assert_eq!(phone_values("tel 0532 123 45 67", "TR"), ["+905321234567"]);
        assert_eq!(
            phone_values("WhatsApp 11 15 2345 6789", "AR"),
            ["+5491123456789"]
        );
        assert_eq!(
            phone_values("звоните 8 (912) 345-67-89", "RU"),
            ["+79123456789"]
        );
        assert_eq!(phone_values("text (213) 373-4253", "US"), ["+12133734253"]);
        assert_eq!(phone_values("+52 1 33 1234 5678", "MX"), ["+523312345678"]);
        assert_eq!(
            phone_values("size 10 12. 0722 000 111", "KE"),
            ["+254722000111"]
        );
        // The same phone twice is one contact.
        assert_eq!(
            phone_values("UPI 9123456780@ybl, call 91234 56780", "IN"),
            ["+919123456780"]
        );
    }

    #[test]
    fn identifiers_are_never_phones_but_stay_claimed() {
        for (caption, market) in [
            ("Pay to GTBank 0123456789", "NG"),
            ("Meezan acc 01234567890123", "PK"),
            ("tracking no. KE123456789", "KE"),
            ("Order AE-77812345 delivered", "AE"),
            ("Order #20451789 delivered", "NG"),
            ("TCS tracking 775512349876", "PK"),
            ("Sipariş no 123456789 kargoda", "TR"),
            ("call +234 803 12", "NG"),
        ] {
            let numbers = find_phones(&Text::new(caption), Some(market));
            assert!(numbers.phones.is_empty(), "{caption}: {:?}", numbers.phones);
        }
        let numbers = find_phones(&Text::new("Meezan acc 01234567890123"), Some("PK"));
        assert_eq!(numbers.identifiers.len(), 1, "not a price either");
    }
}
