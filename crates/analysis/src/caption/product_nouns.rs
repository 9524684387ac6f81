//! Words that name products, for telling the product phrase from the hype around it
//! ("Flash sale!! 🔥 Linen co-ord set": the second segment names something sold).
//!
//! Two sources, both in `crate::products`: the product lexicon (nouns, slang and brands in the
//! languages sellers write in), and the head noun of every Shopify taxonomy category (the
//! last word of "Coffee Mugs", "Pressure Cookers"). Lexicon words are strong evidence;
//! taxonomy head nouns are weaker (a few are everyday words too, like "set" or "pieces").

use std::collections::HashSet;
use std::sync::OnceLock;

use crate::fold::fold;
use crate::products::{PRODUCT_TERMS, SHOPIFY_TAXONOMY};

/// How strongly a word says "this segment names the product".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Evidence {
    None,
    /// The head noun of a taxonomy category.
    CategoryNoun,
    /// A word of the tagger's product lexicon.
    LexiconTerm,
}

struct Nouns {
    lexicon: HashSet<String>,
    categories: HashSet<String>,
}

/// Built once, on the first caption (about 10,000 category names).
fn nouns() -> &'static Nouns {
    static NOUNS: OnceLock<Nouns> = OnceLock::new();
    NOUNS.get_or_init(|| {
        let mut lexicon = HashSet::new();
        for (variants, _, _) in PRODUCT_TERMS {
            // One-word terms only: the words of "air force one" or "three piece suit"
            // ("one", "piece") say nothing alone.
            for term in variants.split('|').filter(|t| !t.contains([' ', '-'])) {
                let folded = fold(term);
                if folded.chars().count() > 2 {
                    lexicon.insert(folded);
                }
            }
        }
        let mut categories = HashSet::new();
        for line in SHOPIFY_TAXONOMY.lines() {
            let Some((_, path)) = line.split_once(" : ") else {
                continue;
            };
            let leaf = path.rsplit(" > ").next().unwrap_or_default();
            if let Some(head) = fold(leaf).split([' ', '-', '/']).rfind(|w| w.len() > 2) {
                categories.insert(head.to_owned());
            }
        }
        Nouns {
            lexicon: with_stems(lexicon),
            categories: with_stems(categories),
        }
    })
}

/// Each noun, and a plural noun also without its final `s`, so that looking a word up
/// (with its own plural ending dropped) needs no allocation per caption.
fn with_stems(nouns: HashSet<String>) -> HashSet<String> {
    let stems: Vec<String> = nouns
        .iter()
        .filter_map(|noun| noun.strip_suffix('s').map(str::to_owned))
        .collect();
    nouns.into_iter().chain(stems).collect()
}

/// The evidence one folded word gives; plural `s` / `es` endings also match.
pub(crate) fn evidence(folded_word: &str) -> Evidence {
    let nouns = nouns();
    let forms = [
        Some(folded_word),
        folded_word.strip_suffix("es"),
        folded_word.strip_suffix('s'),
    ];
    // A form matches a noun, or a noun's stem (the noun is that form plus "s").
    let known = |set: &HashSet<String>| forms.iter().flatten().any(|form| set.contains(*form));
    if folded_word.chars().count() <= 2 {
        Evidence::None
    } else if known(&nouns.lexicon) {
        Evidence::LexiconTerm
    } else if known(&nouns.categories) {
        Evidence::CategoryNoun
    } else {
        Evidence::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_words_are_known_and_hype_is_not() {
        for word in [
            "dress", "sneakers", "kurta", "abaya", "vestido", "hoodie", "tas",
        ] {
            assert_eq!(evidence(&fold(word)), Evidence::LexiconTerm, "{word}");
        }
        for word in ["mugs", "mug", "cookers", "earbuds"] {
            assert!(evidence(word) >= Evidence::CategoryNoun, "{word}");
        }
        for word in [
            "flash", "sale", "restock", "alert", "promocao", "soldes", "beshie", "omo",
        ] {
            assert_eq!(evidence(word), Evidence::None, "{word}");
        }
    }
}
