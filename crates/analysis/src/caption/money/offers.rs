//! Bundle offers: "3 for 70k", "any 2 @ 5000", "buy 2 get 1 free".

use super::words::{OFFER_LINKS, QUANTITY_WORDS};
use super::{Money, Role};
use crate::caption::text::{Kind, Text};

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

pub(super) fn buy_get(text: &Text, quantity_token: usize, quantity: u32) -> Option<OfferMatch> {
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
