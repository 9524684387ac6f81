//! Currency signs, codes and words as sellers write them, and each market's currency.

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
        match self {
            Self::Code(code) => Some(code),
            Self::Dollar => match market_currency {
                Some(
                    c @ ("USD" | "CAD" | "AUD" | "NZD" | "SGD" | "HKD" | "MXN" | "TWD" | "JMD"
                    | "TTD" | "LRD" | "BSD" | "BBD" | "FJD" | "NAD" | "COP" | "ARS" | "CLP"),
                ) => Some(c),
                _ => Some("USD"),
            },
            Self::Rupee => match market_currency {
                Some(c @ ("PKR" | "LKR" | "NPR" | "MUR" | "SCR")) => Some(c),
                _ => Some("INR"),
            },
            Self::Shilling => match market_currency {
                Some(c @ ("KES" | "UGX" | "TZS" | "SOS")) => Some(c),
                _ => None,
            },
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
            Self::Peso => match market_currency {
                Some(c @ ("MXN" | "COP" | "ARS" | "CLP" | "UYU" | "DOP" | "CUP" | "PHP")) => {
                    Some(c)
                }
                _ => Some("PHP"),
            },
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
        _ => return None,
    })
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
        "vnd" => Marker::Code("VND"),
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

/// The currency of a market (ISO-3166 alpha-2), used when a caption writes none.
pub fn market_currency(market: &str) -> Option<&'static str> {
    let upper = market.trim().to_ascii_uppercase();
    Some(match upper.as_str() {
        "NG" => "NGN",
        "KE" => "KES",
        "UG" => "UGX",
        "TZ" => "TZS",
        "RW" => "RWF",
        "GH" => "GHS",
        "ZA" => "ZAR",
        "IN" => "INR",
        "PK" => "PKR",
        "LK" => "LKR",
        "NP" => "NPR",
        "BD" => "BDT",
        "MU" => "MUR",
        "GB" | "UK" => "GBP",
        "US" | "EC" | "SV" | "ZW" | "PR" => "USD",
        "CA" => "CAD",
        "AU" => "AUD",
        "NZ" => "NZD",
        "SG" => "SGD",
        "HK" => "HKD",
        "MY" => "MYR",
        "ID" => "IDR",
        "PH" => "PHP",
        "TH" => "THB",
        "VN" => "VND",
        "JP" => "JPY",
        "CN" => "CNY",
        "KR" => "KRW",
        "TR" => "TRY",
        "BR" => "BRL",
        "MX" => "MXN",
        "CO" => "COP",
        "AR" => "ARS",
        "CL" => "CLP",
        "PE" => "PEN",
        "AE" => "AED",
        "SA" => "SAR",
        "EG" => "EGP",
        "MA" => "MAD",
        "ET" => "ETB",
        "ZM" => "ZMW",
        "MW" => "MWK",
        "SO" => "SOS",
        "CH" => "CHF",
        "SN" | "CI" | "BJ" | "TG" | "BF" | "ML" | "NE" | "GW" => "XOF",
        "CM" | "GA" | "CG" | "TD" | "CF" | "GQ" => "XAF",
        "FR" | "DE" | "ES" | "IT" | "PT" | "NL" | "BE" | "AT" | "IE" | "FI" | "GR" | "LU"
        | "SK" | "SI" | "EE" | "LV" | "LT" | "MT" | "CY" | "HR" => "EUR",
        _ => return None,
    })
}

/// Currencies whose prices are whole numbers in practice: "1.500" there is fifteen hundred.
pub(crate) fn dot_groups_thousands(currency: Option<&str>) -> bool {
    matches!(
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
