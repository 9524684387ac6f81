//! Caption parsing: a seller's caption (and the post's market) to structured product data.
//!
//! Rules, not a model: captions are short and formulaic, rules are exact and run in
//! microseconds, and every decision can be traced to a word list or pattern here.
//! Spans are character (Unicode code point) offsets into the caption as received.

mod colours;
mod condition;
mod contacts;
mod currency;
mod money;
mod product_nouns;
mod sizes;
pub(crate) mod text;
mod title;

use serde::{Deserialize, Serialize};

pub use condition::Condition;
pub use contacts::ContactKind;
pub use currency::market_currency;

use money::{Money, Role};
use text::{Kind, Text};

/// `[start, end)` in characters (code points) of the caption as received.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    /// First character.
    pub start: usize,
    /// One past the last character.
    pub end: usize,
}

/// Where a price's currency came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CurrencySource {
    /// Written in the caption (sign, code or word).
    Caption,
    /// Not written; taken from the post's market.
    Market,
}

/// A price as the caption states it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Price {
    /// The amount, in the currency's main unit.
    pub amount: f64,
    /// ISO 4217, or null when neither the caption nor the market says.
    pub currency: Option<String>,
    /// Where `currency` came from.
    pub currency_source: Option<CurrencySource>,
    /// The text as written (the caption's own characters), e.g. "₦15,000" or "89,90 €".
    pub raw: String,
    /// Where `raw` is in the caption.
    pub span: Span,
}

/// A bundle or quantity deal ("2 for 30", "buy 2 get 1 free").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Offer {
    /// Items in the bundle.
    pub quantity: u32,
    /// Bundle price; null for "buy 2 get 1 free".
    pub amount: Option<f64>,
    /// ISO 4217, as for the price.
    pub currency: Option<String>,
    /// Free items in "buy N get M free" deals.
    pub free_quantity: Option<u32>,
    /// The text as written.
    pub raw: String,
    /// Where `raw` is in the caption.
    pub span: Span,
}

/// A phone or WhatsApp contact in the caption.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    /// Phone or WhatsApp.
    pub kind: ContactKind,
    /// E.164 where the number or the market says enough, else the digits as written.
    pub value: String,
    /// The text as written.
    pub raw: String,
    /// Where `raw` is in the caption.
    pub span: Span,
}

/// How sure each field is, 0–1; 0 when the field is empty.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FieldConfidence {
    /// Of `title`.
    pub title: f32,
    /// Of `price`.
    pub price: f32,
    /// Of the price's currency.
    pub currency: f32,
    /// Of `sizes`.
    pub sizes: f32,
    /// Of `colors`.
    pub colors: f32,
    /// Of `condition`.
    pub condition: f32,
    /// Of `language`.
    pub language: f32,
}

/// The `caption-parsed` result (DESIGN §3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaptionParse {
    /// The product, in the caption's words, without prices, sizes, hashtags or calls to action.
    pub title: Option<String>,
    /// The price the item sells at (the lower one when a compare-at price is struck).
    pub price: Option<Price>,
    /// The price before a discount ("was 45", a struck-through price).
    pub compare_at_price: Option<Price>,
    /// "DM for price", "price in bio" and the like: a price exists but is not written.
    pub price_on_request: bool,
    /// Bundle and quantity deals.
    pub offers: Vec<Offer>,
    /// Sizes on offer, normalised (`EU 38`, `M`, `6-12m`).
    pub sizes: Vec<String>,
    /// `EU`, `UK`, `US`, `numeric` (unmarked numbers), `letter`, `age`, `one_size` or `mixed`.
    pub size_system: Option<String>,
    /// English base colour names.
    pub colors: Vec<String>,
    /// Lower case, without `#`.
    pub hashtags: Vec<String>,
    /// Lower case, without `@`.
    pub mentions: Vec<String>,
    /// Phone and WhatsApp contacts.
    pub contacts: Vec<Contact>,
    /// New, used or refurbished, when the caption says.
    pub condition: Option<Condition>,
    /// ISO 639-1 code of the caption's language, as the language detector's rules decide it
    /// (null where they abstain: no marker word, a tie).
    pub language: Option<String>,
    /// How sure each field is.
    pub confidence: FieldConfidence,
}

/// Parses one caption. `market` is the post's ISO-3166 alpha-2 country, used for the
/// currency when none is written and for phone numbers and size systems.
pub fn parse_caption(caption: &str, market: Option<&str>) -> CaptionParse {
    let market = market.map(str::trim).filter(|m| m.len() == 2);
    let text = Text::new(caption);
    let mut claimed = vec![false; text.tokens.len()];

    let numbers = contacts::find_phones(&text, market);
    let phone_spans = numbers.phones.iter().map(|p| (p.start, p.end));
    for (start, end) in phone_spans.chain(numbers.identifiers.iter().copied()) {
        mark_bytes(&text, &mut claimed, start, end);
    }
    let sizes = sizes::find_sizes(&text, market, &claimed);
    for &index in &sizes.claimed {
        claimed[index] = true;
    }
    let mut money = money::find_money(&text, &claimed, market);
    let offers = money::find_offers(&text, &mut money);
    money::mark_compare_at(&text, &mut money);

    let price_index = pick(&money, Role::Price);
    let mut compare_index = pick(&money, Role::CompareAt);
    if let (Some(p), Some(c)) = (price_index, compare_index) {
        if money[c].amount <= money[p].amount {
            compare_index = None;
        }
    }
    // A lone struck or "was" price with no sale price is still the only price we have.
    let (price_index, compare_index) = match (price_index, compare_index) {
        (None, Some(c)) => (Some(c), None),
        other => other,
    };
    let price = price_index.map(|i| to_price(caption, &text, &money[i], market));
    let compare_at_price = compare_index.map(|i| to_price(caption, &text, &money[i], market));

    let mut excluded = claimed.clone();
    for m in &money {
        excluded[m.first..=m.last]
            .iter_mut()
            .for_each(|e| *e = true);
    }
    for offer in &offers {
        excluded[offer.first..=offer.last]
            .iter_mut()
            .for_each(|e| *e = true);
    }
    // A sentence that opens by naming an order, a tracking code or an account is about that,
    // not the product ("Pedido nº 100234567 enviado! Biquíni preto R$ 79").
    let mut priced = vec![false; text.tokens.len()];
    for m in &money {
        priced[m.first..=m.last].iter_mut().for_each(|p| *p = true);
    }
    for &(start, end) in &numbers.identifiers {
        exclude_identifier_sentence(&text, &mut excluded, &priced, (start, end));
    }
    let offers = offers
        .iter()
        .map(|offer| {
            let priced = offer
                .money
                .map(|i| to_price(caption, &text, &money[i], market));
            let (start, end) = (text.tokens[offer.first].start, text.tokens[offer.last].end);
            Offer {
                quantity: offer.quantity,
                amount: priced.as_ref().map(|p| p.amount),
                currency: priced.and_then(|p| p.currency),
                free_quantity: offer.free_quantity,
                raw: original(caption, span(&text, start, end)),
                span: span(&text, start, end),
            }
        })
        .collect::<Vec<_>>();

    let price_on_request = price.is_none()
        && offers.is_empty()
        && money::asks_for_price(&crate::fold::fold(&text.norm));
    let colors = colours::find_colours(&text);
    let condition = condition::find_condition(&text);
    // The language detector's rules (no model here): the caption-parsed and
    // language-detected events of one post name the same language wherever the rules decide.
    let language = crate::language::detect_language(caption, market);
    let title = title::find_title(&text, &excluded);
    let contacts = numbers
        .phones
        .into_iter()
        .map(|p| {
            let span = span(&text, p.start, p.end);
            Contact {
                kind: p.kind,
                value: p.value,
                raw: original(caption, span),
                span,
            }
        })
        .collect();

    let confidence = FieldConfidence {
        title: title.as_ref().map_or(0.0, |t| t.1),
        price: price_index.map_or(0.0, |i| price_confidence(&money, i)),
        currency: price.as_ref().map_or(0.0, |p| match p.currency_source {
            Some(CurrencySource::Caption) => 0.95,
            Some(CurrencySource::Market) => 0.7,
            None => 0.0,
        }),
        sizes: if sizes.sizes.is_empty() {
            0.0
        } else if sizes.from_keyword {
            0.9
        } else {
            0.75
        },
        colors: if colors.is_empty() { 0.0 } else { 0.8 },
        condition: condition.map_or(0.0, |c| c.1),
        language: if language.language.is_some() {
            language.confidence
        } else {
            0.0
        },
    };
    CaptionParse {
        title: title.map(|t| t.0),
        price,
        compare_at_price,
        price_on_request,
        offers,
        size_system: sizes.size_system().map(str::to_owned),
        sizes: sizes.sizes,
        colors,
        hashtags: contacts::hashtags(&text),
        mentions: contacts::mentions(&text),
        contacts,
        condition: condition.map(|c| c.0),
        language: language.language.map(|l| l.code().to_owned()),
        confidence,
    }
}

/// The best-scoring amount with `role`; the first one wins a tie.
fn pick(money: &[Money], role: Role) -> Option<usize> {
    let mut best: Option<usize> = None;
    for (index, m) in money.iter().enumerate().filter(|(_, m)| m.role == role) {
        if best.is_none_or(|b| m.score > money[b].score) {
            best = Some(index);
        }
    }
    best
}

fn price_confidence(money: &[Money], index: usize) -> f32 {
    let competing = money.iter().filter(|m| m.role == Role::Price).count();
    let base = match money[index].score {
        s if s >= 6 => 0.95,
        s if s >= 4 => 0.9,
        s if s >= 3 => 0.75,
        _ => 0.55,
    };
    if competing > 1 {
        base * 0.85
    } else {
        base
    }
}

fn to_price(caption: &str, text: &Text, money: &Money, market: Option<&str>) -> Price {
    let (start, end) = money.byte_span(text);
    let written = money.marker.and_then(|m| m.resolve(market));
    let from_market = market.and_then(market_currency);
    let (currency, source) = match (written, money.marker, from_market) {
        (Some(code), _, _) => (Some(code), Some(CurrencySource::Caption)),
        // A marker that needs the market ("/=") and a market that has none: unknown.
        (None, Some(_), _) => (None, None),
        (None, None, Some(code)) => (Some(code), Some(CurrencySource::Market)),
        (None, None, None) => (None, None),
    };
    Price {
        amount: money.amount,
        currency: currency.map(str::to_owned),
        currency_source: source,
        raw: original(caption, span(text, start, end)),
        span: span(text, start, end),
    }
}

/// The caption's own characters under `span`: "raw" fields show what the seller wrote.
fn original(caption: &str, span: Span) -> String {
    caption
        .chars()
        .skip(span.start)
        .take(span.end - span.start)
        .collect()
}

fn span(text: &Text, start: usize, end: usize) -> Span {
    let (start, end) = text.original_span(start, end);
    Span { start, end }
}

/// Marks the sentence holding the identifier at bytes `start..end` (from the last break before
/// it, a line break, an emoji or ". ! ?" before a space, to the first after it), unless the
/// sentence also holds a price (`priced`): then the identifier is an aside in the product's
/// sentence ("Black agbada set ₦45,000, call +234 803 12").
fn exclude_identifier_sentence(
    text: &Text,
    excluded: &mut [bool],
    priced: &[bool],
    (start, end): (usize, usize),
) {
    let ends_sentence = |index: usize| match text.tokens[index].kind {
        Kind::Newline => true,
        // "№" is filed with the emoji but is the "No." of "Заказ № 123".
        Kind::Emoji => text.token_text(index) != "№",
        Kind::Punct => {
            matches!(text.token_text(index), "." | "!" | "?")
                && text
                    .tokens
                    .get(index + 1)
                    .is_none_or(|next| matches!(next.kind, Kind::Space | Kind::Newline))
        }
        _ => false,
    };
    let inside: Vec<usize> = (0..text.tokens.len())
        .filter(|&i| text.tokens[i].start < end && text.tokens[i].end > start)
        .collect();
    let (Some(&first), Some(&last)) = (inside.first(), inside.last()) else {
        return;
    };
    let from = (0..first)
        .rev()
        .find(|&i| ends_sentence(i))
        .map_or(0, |i| i + 1);
    let to = (last + 1..text.tokens.len())
        .find(|&i| ends_sentence(i))
        .unwrap_or(text.tokens.len());
    if !priced[from..to].contains(&true) {
        excluded[from..to].iter_mut().for_each(|e| *e = true);
    }
}

fn mark_bytes(text: &Text, claimed: &mut [bool], start: usize, end: usize) {
    for (index, token) in text.tokens.iter().enumerate() {
        if token.start < end && token.end > start {
            claimed[index] = true;
        }
    }
}
