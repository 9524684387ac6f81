//! The item's condition (new, used, refurbished) from condition words.

use super::text::{Kind, Text};

/// The item's condition, when the caption says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// New, unworn, with tags.
    New,
    /// Used, pre-owned, thrifted.
    Used,
    /// Refurbished or renewed.
    Refurbished,
}

/// Reads condition words; answers the condition and how sure the reading is.
pub(crate) fn find_condition(text: &Text) -> Option<(Condition, f32)> {
    let words: Vec<&str> = (0..text.tokens.len())
        .filter(|&i| matches!(text.tokens[i].kind, Kind::Word | Kind::Hashtag))
        .map(|i| text.folded[i].trim_start_matches('#'))
        .collect();
    let has = |w: &str| words.contains(&w);
    let pair = |a: &str, b: &str| words.windows(2).any(|p| p[0] == a && p[1] == b);
    if has("refurbished")
        || has("refurb")
        || has("renewed")
        || has("recondicionado")
        || has("reacondicionado")
    {
        return Some((Condition::Refurbished, 0.9));
    }
    let used = [
        "used",
        "preowned",
        "preloved",
        "secondhand",
        "thrift",
        "thrifted",
        "mitumba",
        "okrika",
        "tokunbo",
        "usado",
        "usada",
        "seminovo",
        "seminova",
        "bekas",
        "d'occasion",
        "vintage",
    ];
    if used.iter().any(|w| has(w))
        || pair("pre", "owned")
        || pair("pre", "loved")
        || pair("second", "hand")
        || pair("like", "new")
        || pair("uk", "used")
        || pair("foreign", "used")
        || pair("comme", "neuf")
        || pair("como", "nuevo")
    {
        return Some((Condition::Used, 0.9));
    }
    let new_strong = [
        "bnib", "bnwt", "bnwot", "sealed", "neuf", "neuve", "nuevo", "nueva", "novo", "nova",
        "mpya", "baru", "unused",
    ];
    if new_strong.iter().any(|w| has(w))
        || pair("brand", "new")
        || pair("new", "with")
        || pair("never", "used")
        || pair("in", "box")
    {
        return Some((Condition::New, 0.9));
    }
    let loose_new = words.windows(2).enumerate().any(|(i, p)| {
        p[0] == "new"
            && !matches!(
                p[1],
                "price"
                    | "prices"
                    | "year"
                    | "month"
                    | "week"
                    | "account"
                    | "page"
                    | "number"
                    | "customers"
            )
            && (i == 0 || words[i - 1] != "happy")
    }) || words.last() == Some(&"new");
    loose_new.then_some((Condition::New, 0.6))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn condition_words() {
        assert_eq!(
            find_condition(&Text::new("UK used iPhone")).map(|c| c.0),
            Some(Condition::Used)
        );
        assert_eq!(
            find_condition(&Text::new("Brand new in box")).map(|c| c.0),
            Some(Condition::New)
        );
        assert_eq!(find_condition(&Text::new("New price 5000!")), None);
        assert_eq!(
            find_condition(&Text::new("Refurbished laptop")).map(|c| c.0),
            Some(Condition::Refurbished)
        );
    }
}
