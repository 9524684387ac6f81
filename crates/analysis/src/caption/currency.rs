//! Currency signs, codes and words as sellers write them, and each market's currency (ISO
//! 4217 and 3166 tables from `iso_currency`).

use std::collections::HashMap;
use std::sync::OnceLock;

use iso_currency::{Country, Currency, IntoEnumIterator};

/// What a written marker says about the currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Marker {
    /// An unambiguous currency.
    Code(&'static str),
    /// "$": the market's dollar (or peso), USD elsewhere.
    Dollar,
    /// "Rs": the market's rupee, INR elsewhere.
    Rupee,
    /// "/=" and "Sh": an East African shilling, known only from the market.
    Shilling,
    /// "/-": South Asian price suffix, known only from the market.
    SouthAsianSuffix,
    /// "¥": JPY unless the market is China.
    Yen,
    /// "CFA": XOF in West Africa, XAF in Central Africa.
    Cfa,
    /// "pesos": the market's peso (MXN, COP, ARS, CLP, …), PHP elsewhere.
    Peso,
}

impl Marker {
    pub fn resolve(self, market: Option<&str>) -> Option<&'static str> {
        let market_currency = market.and_then(market_currency);
        // What the market's own currency is called in ISO 4217 decides the ambiguous signs:
        // "$" is the market's currency wherever its ISO symbol has a dollar sign (MXN, COP,
        // ARS, CLP, NT$, CA$, …), "Rs" wherever it is a rupee, "Sh" a shilling.
        let market_is = |test: fn(Currency) -> bool| {
            market_currency
                .and_then(Currency::from_code)
                .filter(|currency| test(*currency))
                .and(market_currency)
        };
        match self {
            Self::Code(code) => Some(code),
            Self::Dollar => market_is(|c| c.symbol().symbol.contains('$')).or(Some("USD")),
            Self::Rupee => market_is(|c| c.name().contains("rupee")).or(Some("INR")),
            Self::Shilling => market_is(|c| c.name().contains("shilling")),
            Self::SouthAsianSuffix => match market_currency {
                Some(c @ ("INR" | "PKR" | "LKR" | "NPR" | "BDT")) => Some(c),
                _ => None,
            },
            Self::Yen => match market_currency {
                Some("CNY") => Some("CNY"),
                _ => Some("JPY"),
            },
            Self::Cfa => match market_currency {
                Some("XAF") => Some("XAF"),
                _ => Some("XOF"),
            },
            Self::Peso => market_is(|c| c.name().contains("peso")).or(Some("PHP")),
        }
    }
}

/// A currency sign token (already a single character).
pub(crate) fn sign(symbol: &str) -> Option<Marker> {
    Some(match symbol {
        "$" => Marker::Dollar,
        "€" => Marker::Code("EUR"),
        "£" => Marker::Code("GBP"),
        "¥" => Marker::Yen,
        "₦" => Marker::Code("NGN"),
        "₹" => Marker::Code("INR"),
        "₱" => Marker::Code("PHP"),
        "₵" | "¢" => Marker::Code("GHS"),
        "₩" => Marker::Code("KRW"),
        "₺" => Marker::Code("TRY"),
        "₽" => Marker::Code("RUB"),
        "৳" => Marker::Code("BDT"),
        "₫" => Marker::Code("VND"),
        "฿" => Marker::Code("THB"),
        "₴" => Marker::Code("UAH"),
        "₪" => Marker::Code("ILS"),
        // Any other sign that is one ISO currency's and no other's (₸, ₼, ₾, …).
        other => return unique_iso_symbol(other).map(Marker::Code),
    })
}

/// The currency whose ISO symbol `symbol` is, when exactly one current currency has it and
/// the symbol is a sign, not letters (ZAR's "R" is a word before a number as often as not).
fn unique_iso_symbol(symbol: &str) -> Option<&'static str> {
    static SIGNS: OnceLock<HashMap<String, Option<&'static str>>> = OnceLock::new();
    let signs = SIGNS.get_or_init(|| {
        let mut signs: HashMap<String, Option<&'static str>> = HashMap::new();
        for currency in Currency::iter().filter(|currency| is_legal_tender(*currency)) {
            let sign = currency.symbol().symbol;
            if sign.is_empty() || sign.chars().any(char::is_alphanumeric) || sign == "¤" {
                continue;
            }
            signs
                .entry(sign)
                .and_modify(|code| *code = None)
                .or_insert(Some(currency.code()));
        }
        signs
    });
    signs.get(symbol).copied().flatten()
}

/// A word written right before a sign, changing it: "R$", "US$", "GH₵".
pub(crate) fn sign_with_prefix(prefix: &str, symbol: &str) -> Option<Marker> {
    Some(match (prefix, symbol) {
        ("r", "$") => Marker::Code("BRL"),
        ("us", "$") | ("u", "$") => Marker::Code("USD"),
        ("c" | "ca" | "cad", "$") => Marker::Code("CAD"),
        ("a" | "au" | "aud", "$") => Marker::Code("AUD"),
        ("nz", "$") => Marker::Code("NZD"),
        ("s" | "sg", "$") => Marker::Code("SGD"),
        ("hk", "$") => Marker::Code("HKD"),
        ("mx" | "mex", "$") => Marker::Code("MXN"),
        ("nt", "$") => Marker::Code("TWD"),
        ("gh", "₵" | "¢") => Marker::Code("GHS"),
        _ => return None,
    })
}

/// A currency written as a word or code (folded to lower case).
pub(crate) fn word(folded: &str) -> Option<Marker> {
    Some(match folded {
        "ngn" | "naira" | "niara" => Marker::Code("NGN"),
        "kes" | "ksh" | "kshs" | "ksh." | "bob" => Marker::Code("KES"),
        "ugx" | "ush" | "ushs" => Marker::Code("UGX"),
        "tzs" | "tsh" | "tshs" => Marker::Code("TZS"),
        "sh" | "shs" | "shilingi" | "shillings" => Marker::Shilling,
        "ghs" | "ghc" | "cedis" | "cedi" => Marker::Code("GHS"),
        "zar" | "rand" => Marker::Code("ZAR"),
        "inr" | "rupees" | "rupee" => Marker::Code("INR"),
        "rs" => Marker::Rupee,
        "pkr" => Marker::Code("PKR"),
        "lkr" => Marker::Code("LKR"),
        "npr" => Marker::Code("NPR"),
        "bdt" | "taka" | "tk" => Marker::Code("BDT"),
        "gbp" | "pounds" => Marker::Code("GBP"),
        "eur" | "euro" | "euros" => Marker::Code("EUR"),
        "usd" | "dollars" | "dollar" => Marker::Code("USD"),
        "cad" => Marker::Code("CAD"),
        "aud" => Marker::Code("AUD"),
        "nzd" => Marker::Code("NZD"),
        "sgd" => Marker::Code("SGD"),
        "hkd" => Marker::Code("HKD"),
        "php" => Marker::Code("PHP"),
        "pesos" | "peso" => Marker::Peso,
        "myr" | "rm" | "ringgit" => Marker::Code("MYR"),
        "idr" | "rp" | "rupiah" => Marker::Code("IDR"),
        "rwf" | "frw" | "rwfr" => Marker::Code("RWF"),
        "brl" | "reais" => Marker::Code("BRL"),
        "mxn" => Marker::Code("MXN"),
        "cop" => Marker::Code("COP"),
        "ars" => Marker::Code("ARS"),
        "xof" | "fcfa" => Marker::Code("XOF"),
        "xaf" => Marker::Code("XAF"),
        "cfa" => Marker::Cfa,
        "aed" | "dhs" | "dirham" | "dirhams" => Marker::Code("AED"),
        "sar" | "riyal" | "riyals" => Marker::Code("SAR"),
        "egp" => Marker::Code("EGP"),
        "mad" => Marker::Code("MAD"),
        "etb" | "birr" => Marker::Code("ETB"),
        "zmw" | "kwacha" => Marker::Code("ZMW"),
        "mwk" => Marker::Code("MWK"),
        "thb" | "baht" => Marker::Code("THB"),
        "vnd" | "vnđ" | "đ" | "dong" => Marker::Code("VND"),
        "rub" | "руб" | "руб." | "рублей" | "рубля" | "р." => Marker::Code("RUB"),
        "uah" | "грн" | "грн." | "гривень" | "гривні" => Marker::Code("UAH"),
        "twd" | "ntd" => Marker::Code("TWD"),
        "jpy" | "yen" => Marker::Code("JPY"),
        "cny" | "rmb" | "yuan" => Marker::Code("CNY"),
        "krw" => Marker::Code("KRW"),
        "tl" => Marker::Code("TRY"),
        "chf" => Marker::Code("CHF"),
        _ => return None,
    })
}

/// Short prefixes that are only currency right before digits ("R250", "N5,000", "P500").
pub(crate) fn glued_prefix(original: &str) -> Option<Marker> {
    Some(match original {
        "R" => Marker::Code("ZAR"),
        "N" => Marker::Code("NGN"),
        "K" => Marker::Code("ZMW"),
        _ => return None,
    })
}

/// The currency of a market (ISO 3166 alpha-2, any case), used when a caption writes none:
/// ISO 4217's current legal tender of that country. Where ISO lists two (Panama's balboa
/// beside the dollar), the one fewer countries use, the national one; where shops price in
/// another in practice, that one (Zimbabwe: US dollars).
pub fn market_currency(market: &str) -> Option<&'static str> {
    let upper = market.trim().to_ascii_uppercase();
    let country = match upper.as_str() {
        "UK" => Country::GB,
        "ZW" => return Some("USD"),
        code => code.parse::<Country>().ok()?,
    };
    Currency::from_country(country)
        .into_iter()
        .filter(|currency| is_legal_tender(*currency))
        .min_by_key(|currency| currency.used_by().len())
        .map(|currency| currency.code())
}

/// Digits after the decimal point in `code`'s amounts (ISO 4217 minor units): 2 for most,
/// 0 for JPY, KRW, VND, CLP, UGX, XOF, …, 3 for the Gulf's dinars.
pub fn minor_units(code: &str) -> Option<u16> {
    Currency::from_code(code).and_then(Currency::exponent)
}

/// Money, not a fund, a metal, a testing code or a currency ISO has replaced.
fn is_legal_tender(currency: Currency) -> bool {
    !currency.is_fund() && !currency.is_special() && currency.is_superseded().is_none()
}

/// Currencies whose prices are whole numbers, "1.500" there being fifteen hundred: those
/// without minor units in ISO 4217, and those whose minor units are not used in practice.
pub(crate) fn dot_groups_thousands(currency: Option<&str>) -> bool {
    currency.and_then(minor_units) == Some(0)
        || matches!(
            currency,
            Some(
                "IDR"
                    | "VND"
                    | "COP"
                    | "CLP"
                    | "ARS"
                    | "UGX"
                    | "TZS"
                    | "RWF"
                    | "XOF"
                    | "XAF"
                    | "KRW"
                    | "JPY"
            )
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::language::MARKET_LANGUAGES;

    #[test]
    fn every_market_the_parsers_know_has_a_currency() {
        for (markets, _) in MARKET_LANGUAGES {
            for market in *markets {
                assert!(market_currency(market).is_some(), "{market}");
            }
        }
        // Markets the hand list had no currency for.
        for (market, currency) in [
            ("RU", "RUB"),
            ("UA", "UAH"),
            ("TW", "TWD"),
            ("IL", "ILS"),
            ("IR", "IRR"),
            ("QA", "QAR"),
            ("KW", "KWD"),
            ("gr", "EUR"),
            ("uk", "GBP"),
            ("ZW", "USD"),
        ] {
            assert_eq!(market_currency(market), Some(currency), "{market}");
        }
        assert_eq!(market_currency("XX"), None);
        assert_eq!(market_currency(""), None);
    }

    #[test]
    fn ambiguous_signs_resolve_by_the_market() {
        assert_eq!(Marker::Dollar.resolve(Some("TW")), Some("TWD"));
        assert_eq!(Marker::Dollar.resolve(Some("CL")), Some("CLP"));
        assert_eq!(Marker::Dollar.resolve(Some("CA")), Some("CAD"));
        assert_eq!(Marker::Dollar.resolve(Some("NG")), Some("USD"));
        assert_eq!(Marker::Dollar.resolve(None), Some("USD"));
        assert_eq!(Marker::Rupee.resolve(Some("LK")), Some("LKR"));
        assert_eq!(
            Marker::Rupee.resolve(Some("ID")),
            Some("INR"),
            "a rupiah is not a rupee"
        );
        assert_eq!(Marker::Shilling.resolve(Some("SO")), Some("SOS"));
        assert_eq!(Marker::Shilling.resolve(Some("GB")), None);
        assert_eq!(Marker::Peso.resolve(Some("UY")), Some("UYU"));
        assert_eq!(Marker::Peso.resolve(Some("US")), Some("PHP"));
    }

    #[test]
    fn signs_and_minor_units_come_from_iso_4217() {
        assert_eq!(sign("₸"), Some(Marker::Code("KZT")));
        assert_eq!(sign("₼"), Some(Marker::Code("AZN")));
        // Letters and shared signs are not guessed from the table.
        assert_eq!(sign("R"), None);
        assert_eq!(sign("ƒ"), None, "AWG and XCG share it");
        assert_eq!(minor_units("JPY"), Some(0));
        assert_eq!(minor_units("KWD"), Some(3));
        assert_eq!(minor_units("EUR"), Some(2));
        assert!(dot_groups_thousands(Some("ISK")), "no minor units");
        assert!(
            dot_groups_thousands(Some("IDR")),
            "minor units unused in practice"
        );
        assert!(!dot_groups_thousands(Some("EUR")));
    }
}
