//! Old prices: "was 5000", struck-through digits, "5000 → 3500", "de R$ 99 por R$ 79".

use super::read::preceding_words;
use super::words::{ARROWS, COMPARE_WORDS, SALE_WORDS};
use super::{Money, Role};
use crate::caption::text::{Kind, Text};

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
