//! The digits of an amount, in either separator convention, and multiplier suffixes.

pub(super) fn multiplier(folded: &str) -> Option<(f64, bool)> {
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
pub(super) const MAX_AMOUNT: f64 = 1e15;

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
}
