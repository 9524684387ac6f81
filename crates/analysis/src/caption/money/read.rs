//! One amount of money around a number token: its currency, grouping, multiplier and
//! instalments, and how strongly the evidence says it is a price.

use super::amount::{multiplier, parse_amount, MAX_AMOUNT};
use super::words::{DELIVERY_WORDS, PRICE_WORDS, STRONG_PRICE_WORDS, UNITS};
use super::{Money, Role};
use crate::caption::currency::{self, Marker};
use crate::caption::text::{Kind, Text};

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

/// What each piece of evidence adds to [`Money::score`]. The caption's price is the
/// best-scored amount (the first wins a tie) and the score sets its confidence (6 and up
/// 0.95, 4 0.9, 3 0.75, else 0.55), so the weights rank kinds of evidence against each other.
mod evidence {
    /// A currency sign, code or word ("₦", "KES", "naira"): alone it makes a price, and it
    /// outweighs everything else together, so a marked amount beats any unmarked one.
    pub const CURRENCY_MARKER: i32 = 4;
    /// A price word or sign in the four words before ("price", "only", "@", "💰"): strong,
    /// but such words also sit before counts ("only 3 left").
    pub const PRICE_WORD_NEAR: i32 = 2;
    /// "15k", "1.2m", "12x de": shorthand sellers write for amounts and rarely for anything
    /// else.
    pub const PRICE_SHORTHAND: i32 = 1;
    /// 100 or more: sizes, counts and dates-in-parts are smaller.
    pub const LARGE_AMOUNT: i32 = 1;
    /// Grouped thousands or decimals on 1,000 or more ("1,500", "2.499,00"): written as
    /// money is written, unlike phone numbers and years.
    pub const GROUPED_DIGITS: i32 = 1;
}

/// The amount of money around the number at token `number`, if it is one: the currency
/// before or after, thousands grouped by spaces, multipliers, instalments; `None` for model
/// numbers, dates, times, measurements, years, delivery fees and bare small numbers.
pub(super) fn read_money(text: &Text, number: usize, market: Option<&str>) -> Option<Money> {
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
        score += evidence::CURRENCY_MARKER;
    }
    if price_word_near {
        score += evidence::PRICE_WORD_NEAR;
    }
    if has_multiplier || installments.is_some() {
        score += evidence::PRICE_SHORTHAND;
    }
    if value >= 100.0 {
        score += evidence::LARGE_AMOUNT;
    }
    if digits.contains([',', '.']) && value >= 1000.0 {
        score += evidence::GROUPED_DIGITS;
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
pub(super) fn installments_before(text: &Text, first: usize) -> Option<(u32, usize)> {
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

pub(super) fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

/// The token after `index`, skipping one space at most.
pub(super) fn following(text: &Text, index: usize) -> Option<usize> {
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
pub(super) fn preceding(text: &Text, index: usize) -> Option<usize> {
    let prev = index.checked_sub(1)?;
    match text.tokens[prev].kind {
        Kind::Space if text.token_text(prev).chars().count() <= 2 => prev.checked_sub(1),
        Kind::Space | Kind::Newline => None,
        _ => Some(prev),
    }
}

pub(super) fn preceding_words(
    text: &Text,
    index: usize,
    line_start: usize,
    count: usize,
) -> Vec<usize> {
    (line_start..index)
        .rev()
        .filter(|&i| !text.is(i, Kind::Space))
        .take(count)
        .collect()
}

/// A currency written before the number: sign, code, word or glued prefix.
pub(super) fn currency_before(
    text: &Text,
    number: usize,
    market: Option<&str>,
) -> (usize, Option<Marker>) {
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
pub(super) fn currency_after(text: &Text, index: usize) -> (Option<Marker>, Option<usize>) {
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
