//! Prices in captions: amounts with either separator convention, k/m/rb/jt suffixes,
//! currency signs, codes and words, was/now pairs, bundle offers and "DM for price".

use once_cell::sync::Lazy;
use regex::Regex;

use super::currency::{self, Marker};
use super::text::{Kind, Text};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Price,
    CompareAt,
    Offer,
}

/// One amount of money found in the caption.
#[derive(Debug, Clone)]
pub(crate) struct Money {
    pub number: usize,
    /// First and last token (inclusive) of the whole expression: sign, number, suffixes.
    pub first: usize,
    pub last: usize,
    pub amount: f64,
    pub marker: Option<Marker>,
    pub score: i32,
    pub role: Role,
}

impl Money {
    pub fn byte_span(&self, text: &Text) -> (usize, usize) {
        (text.tokens[self.first].start, text.tokens[self.last].end)
    }
}

const UNITS: &[&str] = &[
    "gb",
    "tb",
    "mb",
    "kb",
    "mah",
    "mp",
    "cm",
    "mm",
    "km",
    "kg",
    "g",
    "gr",
    "grams",
    "ml",
    "l",
    "ltr",
    "litre",
    "liter",
    "litres",
    "inch",
    "inches",
    "in",
    "ft",
    "yrs",
    "yr",
    "years",
    "year",
    "months",
    "month",
    "mths",
    "mos",
    "weeks",
    "days",
    "hrs",
    "hours",
    "mins",
    "minutes",
    "pcs",
    "pc",
    "pieces",
    "piece",
    "pairs",
    "pair",
    "units",
    "sets",
    "packs",
    "hz",
    "ghz",
    "mhz",
    "w",
    "watts",
    "v",
    "volts",
    "hp",
    "cc",
    "st",
    "nd",
    "rd",
    "th",
    "am",
    "pm",
    "x",
    "oz",
    "lbs",
    "lb",
    "yards",
    "yard",
    "meters",
    "metres",
    "pounds_weight",
    "ans",
    "anos",
    "anos",
    "tahun",
    "miaka",
    "bulan",
    "sqm",
    "plots",
    "bedroom",
    "bedrooms",
    "bed",
    "seater",
    "gsm",
    "ply",
    "series",
    "pro",
    "max",
    "plus",
    "mini",
    "yds",
];

const PRICE_WORDS: &[&str] = &[
    "price",
    "prices",
    "priced",
    "pricing",
    "cost",
    "costs",
    "only",
    "now",
    "sale",
    "selling",
    "sell",
    "at",
    "for",
    "just",
    "offer",
    "promo",
    "bei",
    "harga",
    "prix",
    "precio",
    "preco",
    "valor",
    "rate",
    "amount",
    "pay",
    "retail",
    "mrp",
    "was",
    "from",
    "ahora",
    "agora",
    "maintenant",
    "sekarang",
    "sasa",
    "seulement",
    "solo",
    "apenas",
    "sahaja",
    "saja",
    "cuma",
    "hanya",
    "por",
    "pour",
    "untuk",
    "kwa",
    "rrp",
    "old",
    "going",
    "discount",
    "discounted",
    "slashed",
    "pp",
    "tarif",
    "custo",
    "costo",
];

/// Words that name a price outright, enough to read even "2000" as money.
const STRONG_PRICE_WORDS: &[&str] = &[
    "price", "cost", "bei", "harga", "prix", "precio", "preco", "valor", "@", "only", "now",
];

const COMPARE_WORDS: &[&str] = &[
    "was",
    "before",
    "old",
    "former",
    "regular",
    "normal",
    "retail",
    "rrp",
    "original",
    "mrp",
    "instead",
    "antes",
    "avant",
    "lieu",
    "sebelum",
    "asal",
    "zamani",
    "usual",
    "originally",
    "worth",
    "value",
    "antigo",
    "anterior",
];

const SALE_WORDS: &[&str] = &[
    "now",
    "ahora",
    "agora",
    "maintenant",
    "sekarang",
    "sasa",
    "only",
    "sale",
    "promo",
    "offer",
    "por",
    "jadi",
    "just",
    "new",
    "slashed",
    "discounted",
];

const DELIVERY_WORDS: &[&str] = &[
    "delivery",
    "shipping",
    "dispatch",
    "transport",
    "waybill",
    "postage",
    "livraison",
    "envio",
    "frete",
    "ongkir",
    "usafiri",
    "deposit",
    "fee",
];

const ARROWS: &[&str] = &[
    "→", "➡", "➡️", "👉", "⇒", "⟶", "➔", "➜", "▶", "▶️", "=>", "->", "to", "a", "para", "jadi",
    "kwa",
];

fn multiplier(folded: &str) -> Option<(f64, bool)> {
    // (factor, ambiguous): ambiguous suffixes count only next to a currency.
    Some(match folded {
        "k" | "mil" | "rb" | "ribu" | "thousand" | "thou" | "elfu" => (1e3, false),
        "m" => (1e6, true),
        "mn" | "million" | "millions" | "jt" | "juta" | "mio" | "milioni" => (1e6, false),
        "lakh" | "lakhs" | "lac" | "lacs" => (1e5, false),
        "cr" | "crore" | "crores" => (1e7, false),
        "bn" | "billion" => (1e9, false),
        _ => return None,
    })
}

/// Largest amount read as money. A run of 300 digits parses to infinity (which JSON cannot
/// carry) and anything past a quadrillion is a phone number, an id or noise, not a price.
const MAX_AMOUNT: f64 = 1e15;

/// Parses the digits of a number token. `dot_thousands` reads a lone "1.500" as 1500.
pub(crate) fn parse_amount(raw: &str, dot_thousands: bool) -> Option<f64> {
    let separators: Vec<(usize, char)> = raw
        .char_indices()
        .filter(|(_, c)| matches!(c, '.' | ',' | '\''))
        .collect();
    let digits_only = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
    let Some(&(last_at, last_sep)) = separators.last() else {
        return raw.parse::<f64>().ok();
    };
    let groups: Vec<&str> = raw.split(['.', ',', '\'']).collect();
    let tail = groups.last().map_or(0, |g| g.len());
    let head = groups[0];
    if separators.len() == 1 {
        let thousands = last_sep == '\''
            || (tail == 3 && head != "0" && (last_sep == ',' || dot_thousands || head.len() <= 3));
        return if thousands {
            digits_only(raw).parse().ok()
        } else {
            format!("{}.{}", head, &raw[last_at + 1..]).parse().ok()
        };
    }
    let all_same = separators.iter().all(|&(_, c)| c == last_sep);
    if all_same {
        // 1,200,000 or the Indian 1,20,000: inner groups of 3, or of 2 ending in 3.
        let inner = &groups[1..];
        let western = inner.iter().all(|g| g.len() == 3);
        let indian =
            last_sep == ',' && tail == 3 && inner[..inner.len() - 1].iter().all(|g| g.len() == 2);
        return if (western || indian) && head.len() <= 3 {
            digits_only(raw).parse().ok()
        } else {
            None
        };
    }
    // Mixed: the last separator is the decimal point, the others group thousands.
    let (int_part, frac) = raw.split_at(last_at);
    let int_groups: Vec<&str> = int_part.split(['.', ',', '\'']).collect();
    let grouping = int_part
        .chars()
        .filter(|c| matches!(c, '.' | ',' | '\''))
        .all(|c| c != last_sep);
    if !grouping
        || int_groups[1..].iter().any(|g| g.len() != 3)
        || !(1..=2).contains(&(frac.len() - 1))
    {
        return None;
    }
    format!("{}.{}", digits_only(int_part), &frac[1..])
        .parse()
        .ok()
}

/// Finds every amount of money; `claimed` marks tokens already read as phones or sizes.
pub(crate) fn find_money(text: &Text, claimed: &[bool], market: Option<&str>) -> Vec<Money> {
    let mut found = Vec::new();
    let mut skip_until = 0;
    for (index, token) in text.tokens.iter().enumerate() {
        if index < skip_until || token.kind != Kind::Number || claimed[index] {
            continue;
        }
        if let Some(money) = read_money(text, index, market) {
            skip_until = money.last + 1;
            found.push(money);
        }
    }
    found
}

fn read_money(text: &Text, number: usize, market: Option<&str>) -> Option<Money> {
    let raw = text.token_text(number);
    let (mut first, prefix) = currency_before(text, number, market);

    // Glued to a word that is not a currency: a model number ("A52", "iPhone13").
    if prefix.is_none()
        && number > 0
        && text.adjacent(number - 1, number)
        && text.is(number - 1, Kind::Word)
    {
        return None;
    }
    if let Some(prev) = text.prev_solid(number) {
        let before = text.token_text(prev);
        let date_like = matches!(before, "/" | ":" | "-" | "." | "x" | "×")
            && text.adjacent(prev, number)
            && text
                .prev_solid(prev)
                .is_some_and(|p| text.is(p, Kind::Number) && text.adjacent(p, prev));
        if date_like {
            return None;
        }
    }

    // "1 500" groups thousands with a space only next to a currency.
    let mut last_number = number;
    let mut digits = raw.to_owned();
    if raw.len() <= 3 && raw.chars().all(|c| c.is_ascii_digit()) {
        // The last group may carry the decimals: "R 2 499,00".
        let group = |raw: &str| {
            let (whole, decimals) = match raw.find([',', '.']) {
                Some(at) => (&raw[..at], Some(&raw[at + 1..])),
                None => (raw, None),
            };
            whole.len() == 3
                && whole.chars().all(|c| c.is_ascii_digit())
                && decimals.is_none_or(|d| {
                    (1..=2).contains(&d.len()) && d.chars().all(|c| c.is_ascii_digit())
                })
        };
        while !digits.contains([',', '.'])
            && text.is(last_number + 1, Kind::Space)
            && text.token_text(last_number + 1) == " "
            && text.is(last_number + 2, Kind::Number)
            && group(text.token_text(last_number + 2))
            && (prefix.is_some() || currency_after(text, last_number + 2).0.is_some())
        {
            digits.push_str(text.token_text(last_number + 2));
            last_number += 2;
        }
    }

    let (line_start, _) = text.line_of(number);
    let context = preceding_words(text, prefix.map_or(number, |_| first), line_start, 4);
    let price_word_near = context.iter().any(|&i| {
        text.folded_is(i, PRICE_WORDS)
            || matches!(
                text.token_text(i),
                "@" | "💰" | "💵" | "💲" | "🏷️" | "🏷" | "🤑" | "=" | "➡️"
            )
    });

    let mut last = last_number;
    let mut factor = 1.0;
    let mut has_multiplier = false;
    if let Some(next) = following(text, last) {
        if let Some((f, ambiguous)) = multiplier(&text.folded[next]) {
            let glued = text.adjacent(last, next);
            let glued_or_word = glued || text.folded[next].len() > 1;
            // "1.2m" is a million next to a currency or a price word; "6m" alone may be months.
            let ambiguity_resolved = prefix.is_some()
                || currency_after(text, next).0.is_some()
                || (glued && price_word_near);
            if glued_or_word && (!ambiguous || ambiguity_resolved) {
                factor = f;
                has_multiplier = true;
                last = next;
            }
        }
    }
    if !has_multiplier {
        if let Some(next) = following(text, last) {
            let unit = text.folded_is(next, UNITS)
                || matches!(text.token_text(next), "%" | "\"" | "'" | "°");
            let time = text.token_text(next) == ":"
                && text.adjacent(last, next)
                && text.is(next + 1, Kind::Number);
            // "128GB", "10:30", "6 months": measurements, not money, unless a currency says so.
            if (unit && (text.adjacent(last, next) || text.tokens[next].kind == Kind::Word)) || time
            {
                prefix?;
            }
        }
    }

    let (suffix, suffix_last) = currency_after(text, last);
    if let Some(end) = suffix_last {
        last = end;
    }
    let marker = prefix.or(suffix);
    if prefix.is_none() {
        first = number;
    }
    let resolved = marker
        .and_then(|m| m.resolve(market))
        .or_else(|| market.and_then(currency::market_currency));
    let mut value = parse_amount(&digits, currency::dot_groups_thousands(resolved))? * factor;
    // "12x de R$ 24,90": the instalment is written, the price is the total.
    let installments = installments_before(text, first);
    if let Some((count, start)) = installments {
        value *= f64::from(count);
        first = start;
    }
    if value <= 0.0 || value > MAX_AMOUNT {
        return None;
    }

    let mut score = 0;
    if marker.is_some() {
        score += 4;
    }
    if price_word_near {
        score += 2;
    }
    if has_multiplier || installments.is_some() {
        score += 1;
    }
    if value >= 100.0 {
        score += 1;
    }
    if digits.contains([',', '.']) && value >= 1000.0 {
        score += 1;
    }
    let bare = marker.is_none() && !has_multiplier;
    let plain_digits = digits.chars().all(|c| c.is_ascii_digit());
    if bare && plain_digits && digits.len() >= 3 && digits.starts_with('0') {
        return None;
    }
    let named_price = context
        .iter()
        .take(2)
        .any(|&i| text.folded_is(i, STRONG_PRICE_WORDS));
    if bare
        && plain_digits
        && digits.len() == 4
        && (1950.0..=2035.0).contains(&value)
        && !named_price
    {
        return None;
    }
    // "1 for 30, 3 for 80": a quantity and "for" before a small bare number price it.
    let after_quantity = text.prev_solid(number).is_some_and(|link| {
        text.folded_is(link, &["for", "@", "kwa", "por", "pour"])
            && text.prev_solid(link).is_some_and(|q| {
                text.is(q, Kind::Number) && text.token_text(q).parse::<u32>().is_ok()
            })
    });
    // "de 99,90 por 79,90": the old and the new price, however small.
    let de_por = text.prev_solid(number).is_some_and(|w| {
        (text.folded_is(w, &["por"])
            && text.prev_solid(w).is_some_and(|n| text.is(n, Kind::Number)))
            || (text.folded_is(w, &["de"])
                && text
                    .next_solid(last)
                    .is_some_and(|n| text.folded_is(n, &["por"])))
    });
    let priced_by_context = after_quantity || de_por;
    if bare && value < 100.0 && !named_price && !priced_by_context {
        return None;
    }
    if context.iter().any(|&i| text.folded_is(i, DELIVERY_WORDS)) && marker.is_none() {
        return None;
    }
    if score < 1 && !priced_by_context {
        return None;
    }
    Some(Money {
        number,
        first,
        last,
        amount: round2(value),
        marker,
        score,
        role: Role::Price,
    })
}

/// "12x de", "10x", "6 x": how many instalments the amount after them is one of, and
/// where that count starts. Brazil's "parcelado" prices are written this way.
fn installments_before(text: &Text, first: usize) -> Option<(u32, usize)> {
    let mut times = text.prev_solid(first)?;
    if text.folded_is(times, &["de", "of"]) {
        times = text.prev_solid(times)?;
    }
    let count_token = if matches!(text.folded[times].as_str(), "x" | "×") {
        text.prev_solid(times)
            .filter(|&n| text.is(n, Kind::Number) && text.adjacent(n, times))?
    } else {
        return None;
    };
    let count = text.token_text(count_token).parse::<u32>().ok()?;
    (2..=24).contains(&count).then_some((count, count_token))
}

fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

/// The token after `index`, skipping one space at most.
fn following(text: &Text, index: usize) -> Option<usize> {
    let next = index + 1;
    match text.tokens.get(next)?.kind {
        Kind::Space if text.token_text(next).chars().count() <= 2 => {
            text.tokens.get(next + 1).map(|_| next + 1)
        }
        Kind::Space | Kind::Newline => None,
        _ => Some(next),
    }
}

/// The token before `index`, skipping one space at most.
fn preceding(text: &Text, index: usize) -> Option<usize> {
    let prev = index.checked_sub(1)?;
    match text.tokens[prev].kind {
        Kind::Space if text.token_text(prev).chars().count() <= 2 => prev.checked_sub(1),
        Kind::Space | Kind::Newline => None,
        _ => Some(prev),
    }
}

fn preceding_words(text: &Text, index: usize, line_start: usize, count: usize) -> Vec<usize> {
    (line_start..index)
        .rev()
        .filter(|&i| !text.is(i, Kind::Space))
        .take(count)
        .collect()
}

/// A currency written before the number: sign, code, word or glued prefix.
fn currency_before(text: &Text, number: usize, market: Option<&str>) -> (usize, Option<Marker>) {
    let Some(mut prev) = preceding(text, number) else {
        return (number, None);
    };
    // "Rs. 500", "Ksh. 2,000"
    if text.token_text(prev) == "." {
        if let Some(word) = prev
            .checked_sub(1)
            .filter(|&w| text.is(w, Kind::Word) && text.adjacent(w, prev))
        {
            prev = word;
        }
    }
    match text.tokens[prev].kind {
        Kind::Symbol => {
            let symbol = text.token_text(prev);
            if let Some(word) = prev
                .checked_sub(1)
                .filter(|&w| text.is(w, Kind::Word) && text.adjacent(w, prev))
            {
                if let Some(marker) = currency::sign_with_prefix(&text.folded[word], symbol) {
                    return (word, Some(marker));
                }
            }
            (prev, currency::sign(symbol))
        }
        Kind::Word => {
            if let Some(marker) = currency::word(&text.folded[prev]) {
                return (prev, Some(marker));
            }
            // "R250" anywhere; "R 250" only where the rand is the market's currency (and
            // so for "N" and the naira, "K" and the kwacha): spaced, a lone capital is
            // too often something else.
            if let Some(marker) = currency::glued_prefix(text.token_text(prev)) {
                let market_currency = market.and_then(currency::market_currency);
                if text.adjacent(prev, number) || marker.resolve(market) == market_currency {
                    return (prev, Some(marker));
                }
            }
            (number, None)
        }
        _ => (number, None),
    }
}

/// A currency written after the number: "89,90 €", "5000 naira", "2500/=", "500/-".
fn currency_after(text: &Text, index: usize) -> (Option<Marker>, Option<usize>) {
    let Some(next) = following(text, index) else {
        return (None, None);
    };
    match text.tokens[next].kind {
        Kind::Symbol => (currency::sign(text.token_text(next)), Some(next)),
        Kind::Word => match currency::word(&text.folded[next]) {
            Some(marker) => (Some(marker), Some(next)),
            None => (None, None),
        },
        Kind::Punct if text.token_text(next) == "/" && text.adjacent(index, next) => {
            match text.tokens.get(next + 1).map(|_| text.token_text(next + 1)) {
                Some("=") => (Some(Marker::Shilling), Some(next + 1)),
                Some("-") => (Some(Marker::SouthAsianSuffix), Some(next + 1)),
                _ => (None, None),
            }
        }
        _ => (None, None),
    }
}

/// A bundle deal: "3 for 70k", "any 2 @ 5000", "3/$20", "buy 2 get 1 free".
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OfferMatch {
    pub quantity: u32,
    pub free_quantity: Option<u32>,
    /// Index into the money list of the bundle's price.
    pub money: Option<usize>,
    pub first: usize,
    pub last: usize,
}

const OFFER_LINKS: &[&str] = &[
    "for", "@", "at", "kwa", "por", "pour", "untuk", "=", "/", "just", "only",
];
const QUANTITY_WORDS: &[&str] = &[
    "pcs", "pc", "pieces", "piece", "pairs", "pair", "items", "units", "sets", "packs", "x",
];

pub(crate) fn find_offers(text: &Text, money: &mut [Money]) -> Vec<OfferMatch> {
    let mut offers = Vec::new();
    for (index, token) in text.tokens.iter().enumerate() {
        if token.kind != Kind::Number || money.iter().any(|m| m.first <= index && index <= m.last) {
            continue;
        }
        let Ok(quantity) = text.token_text(index).parse::<u32>() else {
            continue;
        };
        let prev_word = text.prev_solid(index).map(|p| text.folded[p].as_str());
        if prev_word == Some("buy") {
            if let Some(offer) = buy_get(text, index, quantity) {
                offers.push(offer);
            }
            continue;
        }
        // "set of 6 shades for 4,000" prices one set; it is not a bundle of six.
        if !(2..=99).contains(&quantity) || prev_word == Some("of") {
            continue;
        }
        let mut cursor = text.next_solid(index);
        let any_noun = prev_word == Some("any")
            && cursor.is_some_and(|c| text.is(c, Kind::Word) && !text.folded_is(c, OFFER_LINKS));
        if cursor.is_some_and(|c| text.folded_is(c, QUANTITY_WORDS)) || any_noun {
            cursor = cursor.and_then(|c| text.next_solid(c));
        }
        let Some(link) = cursor.filter(|&c| text.folded_is(c, OFFER_LINKS)) else {
            continue;
        };
        let after = text.next_solid(link).and_then(|a| {
            if text.folded_is(a, &["just", "only"]) {
                text.next_solid(a)
            } else {
                Some(a)
            }
        });
        let Some(target) = after else { continue };
        if let Some(money_index) = money.iter().position(|m| m.first == target) {
            if text.token_text(link) == "/" && money[money_index].marker.is_none() {
                continue;
            }
            money[money_index].role = Role::Offer;
            offers.push(OfferMatch {
                quantity,
                free_quantity: None,
                money: Some(money_index),
                first: index,
                last: money[money_index].last,
            });
        }
    }
    offers
}

fn buy_get(text: &Text, quantity_token: usize, quantity: u32) -> Option<OfferMatch> {
    let get = text
        .next_solid(quantity_token)
        .filter(|&g| text.folded_is(g, &["get", "and", "&"]))?;
    let free = text.next_solid(get).filter(|&f| text.is(f, Kind::Number))?;
    let free_quantity = text.token_text(free).parse::<u32>().ok()?;
    let first = text.prev_solid(quantity_token)?;
    Some(OfferMatch {
        quantity,
        free_quantity: Some(free_quantity),
        money: None,
        first,
        last: free,
    })
}

/// Marks old prices: "was 5000", struck-through digits, "~~5000~~", "5000 → 3500", "de R$ 99 por R$ 79".
pub(crate) fn mark_compare_at(text: &Text, money: &mut [Money]) {
    let prices: Vec<usize> = (0..money.len())
        .filter(|&i| money[i].role == Role::Price)
        .collect();
    for (position, &i) in prices.iter().enumerate() {
        let (start, end) = money[i].byte_span(text);
        let (line_start, _) = text.line_of(money[i].first);
        let before = preceding_words(text, money[i].first, line_start, 3);
        let struck = text.is_struck(
            text.tokens[money[i].number].start,
            text.tokens[money[i].number].end,
        ) || (text.norm[..start].ends_with("~~")
            && text.norm[end..].starts_with("~~"));
        let said_was = before.iter().any(|&w| text.folded_is(w, COMPARE_WORDS))
            && !before
                .first()
                .is_some_and(|&w| text.folded_is(w, SALE_WORDS));
        let next = prices
            .get(position + 1)
            .copied()
            .filter(|&j| text.line_of(money[j].first).0 == line_start || said_was);
        let arrow_to_lower = next.is_some_and(|j| {
            let between = (money[i].last + 1..money[j].first)
                .filter(|&t| !text.is(t, Kind::Space))
                .collect::<Vec<_>>();
            let arrow = between.iter().any(|&t| {
                text.folded_is(t, ARROWS)
                    || text.token_text(t) == "-" && text.token_text(t + 1) == ">"
            }) || between.iter().any(|&t| text.folded_is(t, SALE_WORDS));
            arrow && between.len() <= 4 && money[j].amount < money[i].amount
        });
        let spanish_de = before.first().is_some_and(|&w| text.folded_is(w, &["de"]))
            && next.is_some_and(|j| {
                preceding_words(text, money[j].first, 0, 1)
                    .first()
                    .is_some_and(|&w| text.folded_is(w, &["por", "para"]))
            });
        if struck || said_was || arrow_to_lower || spanish_de {
            money[i].role = Role::CompareAt;
        }
    }
}

static PRICE_ON_REQUEST: Lazy<Regex> = Lazy::new(|| {
    Regex::new(
        r"(?x)
        \b(dm|pm|inbox|message|msg|whatsapp|call|text|ask|contact|chat|send|hmu)\b[^.\n]{0,20}?\b(for|the)\s+(price|prices|pricing|cost)\b
        | \b(price|prices|pricing)\b\s*[:\-]?\s*(is\s+)?(in\s+)?(dm|pm|inbox|on\s+request|upon\s+request|on\s+dm|via\s+dm|in\s+bio|negotiable\s+in\s+dm)\b
        | \bprice\s+on\s+(request|enquiry|inquiry|application)\b
        | \b(prix|precio|preco|preço|harga|bei)\b\s*[:\-]?\s*(en\s+|por\s+|no\s+|na\s+|di\s+|kwa\s+)?(dm|pm|mp|inbox|privado|direct|direto|priv[ée]|message)\b
        | \b(dm|pm|inbox)\s+(me\s+)?(pour|para|untuk|kwa)\s+(le\s+|el\s+|o\s+)?(prix|precio|preco|preço|harga|bei)\b
        | \bpoa\s+inbox\b",
    )
    .expect("price-on-request pattern is valid")
});

pub(crate) fn asks_for_price(folded_text: &str) -> bool {
    PRICE_ON_REQUEST.is_match(folded_text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_in_both_conventions() {
        let cases: &[(&str, bool, Option<f64>)] = &[
            ("1200", false, Some(1200.0)),
            ("1,200", false, Some(1200.0)),
            ("1.200", false, Some(1200.0)),
            ("89,90", false, Some(89.9)),
            ("12.5", false, Some(12.5)),
            ("1.299,99", false, Some(1299.99)),
            ("1,299.99", false, Some(1299.99)),
            ("1,200,000", false, Some(1_200_000.0)),
            ("1.200.000", false, Some(1_200_000.0)),
            ("1,20,000", false, Some(120_000.0)),
            ("150.000", true, Some(150_000.0)),
            ("1'250", false, Some(1250.0)),
            ("12.05.2024", false, None),
            ("0.500", false, Some(0.5)),
        ];
        for &(raw, dot_thousands, expected) in cases {
            assert_eq!(parse_amount(raw, dot_thousands), expected, "{raw}");
        }
    }

    #[test]
    fn price_on_request_phrases() {
        for yes in [
            "dm for price",
            "DM for the price 🙏",
            "price in dm",
            "price: dm",
            "inbox for price",
            "prix en dm",
            "precio por privado",
            "harga pm",
            "bei inbox",
            "price on request",
            "whatsapp us for price",
        ] {
            assert!(asks_for_price(&yes.to_lowercase()), "{yes}");
        }
        for no in ["dm to order", "price 5000", "send a dm to order now"] {
            assert!(!asks_for_price(no), "{no}");
        }
    }
}
