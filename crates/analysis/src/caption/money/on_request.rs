//! "DM for price": a caption that withholds its price on purpose.

use once_cell::sync::Lazy;
use regex::Regex;

pub(super) static PRICE_ON_REQUEST: Lazy<Regex> = Lazy::new(|| {
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
