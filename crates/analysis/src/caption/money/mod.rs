//! Prices in captions: amounts with either separator convention, k/m/rb/jt suffixes,
//! currency signs, codes and words, was/now pairs, bundle offers and "DM for price".
//!
//! - `words`: the word lists; `amount`: digits to a number; `read`: one amount and its
//!   evidence; `offers`, `compare_at`, `on_request`: what the amounts are.

mod amount;
mod compare_at;
mod offers;
mod on_request;
mod read;
mod words;

use super::currency::Marker;
use super::text::Text;

pub(crate) use compare_at::mark_compare_at;
pub(crate) use offers::find_offers;
pub(crate) use on_request::asks_for_price;
pub(crate) use read::find_money;

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
