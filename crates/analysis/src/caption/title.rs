//! A clean product title: the first line that says what the product is, without price,
//! emoji, hashtags, mentions, sizes, contacts or sales talk.

use super::product_nouns::{self, Evidence};
use super::text::{Kind, Text};

const SALES_WORDS: &[&str] = &[
    "price",
    "prices",
    "bei",
    "harga",
    "prix",
    "precio",
    "preco",
    "only",
    "now",
    "dm",
    "pm",
    "inbox",
    "call",
    "whatsapp",
    "available",
    "availble",
    "avail",
    "order",
    "orders",
    "size",
    "sizes",
    "colors",
    "colours",
    "color",
    "colour",
    "sale",
    "was",
    "each",
    "ksh",
    "naira",
    "promo",
    "offer",
    "@",
    "rs",
    "rp",
    "rm",
    "disponible",
    "disponibles",
    "tallas",
    "talla",
    "tamanhos",
    "tamanho",
    "taille",
    "tailles",
    "saiz",
    "ukuran",
    "for",
    "just",
    "antes",
    "ahora",
    "agora",
    "before",
    "avant",
    "maintenant",
    "mrp",
    "rrp",
    "retail",
    "sekarang",
    "sasa",
    "sahaja",
    "only",
    "tu",
    "negotiable",
    "cod",
];
const FILLER: &[&str] = &[
    "new",
    "arrival",
    "arrivals",
    "restock",
    "restocked",
    "hot",
    "sale",
    "just",
    "in",
    "available",
    "stock",
    "hello",
    "hi",
    "guys",
    "customers",
    "good",
    "morning",
    "evening",
    "fam",
    "dear",
    "latest",
    "alert",
    "drop",
    "drops",
    "dropped",
    "now",
    "today",
    "shop",
    "our",
    "store",
    "sold",
    "out",
    "back",
    "limited",
    "special",
    "offer",
    "promo",
    "deal",
    "deals",
    "of",
    "the",
    "day",
    "week",
    "flash",
    "mega",
    "big",
    "yes",
    "oh",
    "hey",
    "ready",
    "nouveau",
    "nouveaute",
    "nouveautes",
    "novedad",
    "novedades",
    "novidade",
    "novidades",
    "mzigo",
    "mpya",
    "umefika",
    "baru",
    "sampai",
    "tiba",
    "terbaru",
    "instock",
    "order",
    "yours",
    "grab",
    "get",
    "your",
    "fast",
    "selling",
    "quick",
];
const EDGE_WORDS: &[&str] = &[
    "-", ":", "|", ",", ".", "/", "&", "for", "at", "in", "and", "with", "y", "et", "e", "na",
    "dan", "the", "a", "de", "of", "to",
];

/// `excluded[i]` marks tokens already read as price, size, contact or offer.
///
/// Each line is cut into segments at sentence ends, emoji, tags and removed spans. The
/// title is the first segment (in the first four lines) that names a product: one holding a
/// word of the tagger's product lexicon, else a taxonomy category's head noun
/// ([`product_nouns`]); else, when no segment names one, the first that names anything. So
/// an opener that only sells ("Flash sale!!", "Promoção", "Mga beshie") gives way to the
/// product phrase after it, in any language, without a list of every opener.
pub(crate) fn find_title(text: &Text, excluded: &[bool]) -> Option<(String, f32)> {
    let mut segment: Vec<usize> = Vec::new();
    let mut line = 0;
    // The first meaningful segment for each kind of evidence: (words, line).
    let mut best: [Option<(Vec<usize>, usize)>; 3] = [None, None, None];
    for index in 0..=text.tokens.len() {
        let boundary = index == text.tokens.len() || breaks_segment(text, index, excluded);
        if !boundary {
            if keep(text, index, excluded) {
                segment.push(index);
            }
            continue;
        }
        let words = strip_edges(text, &segment);
        let meaningful = words.iter().any(|&i| {
            text.is(i, Kind::Word)
                && !text.folded_is(i, FILLER)
                && text.token_text(i).chars().count() > 1
        });
        if meaningful {
            let strength = words
                .iter()
                .filter(|&&i| text.is(i, Kind::Word))
                .map(|&i| product_nouns::evidence(&text.folded[i]))
                .max()
                .unwrap_or(Evidence::None);
            let slot = &mut best[strength as usize];
            if slot.is_none() {
                *slot = Some((words, line));
            }
            if strength == Evidence::LexiconTerm {
                break;
            }
        }
        segment.clear();
        if index < text.tokens.len() && text.is(index, Kind::Newline) {
            line += 1;
            if line >= 4 {
                break;
            }
        }
    }
    let (words, line) = best.into_iter().rev().flatten().next()?;
    let confidence = if line == 0 { 0.8 } else { 0.6 };
    Some((truncate(&render(text, &words), 80), confidence))
}

fn breaks_segment(text: &Text, index: usize, excluded: &[bool]) -> bool {
    let token = text.tokens[index];
    if excluded[index] {
        return true;
    }
    match token.kind {
        Kind::Newline | Kind::Emoji | Kind::Hashtag | Kind::Mention | Kind::Url | Kind::Symbol => {
            true
        }
        Kind::Punct => {
            let at_end = text
                .tokens
                .get(index + 1)
                .is_none_or(|n| matches!(n.kind, Kind::Space | Kind::Newline | Kind::Emoji));
            matches!(text.token_text(index), "!" | "?" | ";" | "|" | "•" | "·")
                || (text.token_text(index) == "." && at_end)
        }
        _ => text.token_text(index) == "•",
    }
}

fn keep(text: &Text, index: usize, excluded: &[bool]) -> bool {
    if excluded[index] || text.folded_is(index, SALES_WORDS) {
        return false;
    }
    match text.tokens[index].kind {
        Kind::Word | Kind::Number | Kind::Space => true,
        Kind::Punct => matches!(
            text.token_text(index),
            "-" | "&" | "'" | "/" | "." | "," | "+" | "(" | ")" | ":"
        ),
        _ => false,
    }
}

/// Drops spaces and connector words at both ends.
fn strip_edges(text: &Text, kept: &[usize]) -> Vec<usize> {
    let solid = |i: &usize| !text.is(*i, Kind::Space) && !text.folded_is(*i, EDGE_WORDS);
    let Some(first) = kept.iter().position(solid) else {
        return Vec::new();
    };
    let last = kept.iter().rposition(solid).unwrap_or(first);
    kept[first..=last].to_vec()
}

/// Joins kept tokens, putting one space wherever the caption had a gap or a removed token.
fn render(text: &Text, tokens: &[usize]) -> String {
    let mut out = String::new();
    let mut previous: Option<usize> = None;
    for &index in tokens {
        if text.is(index, Kind::Space) {
            continue;
        }
        if let Some(prev) = previous {
            if !text.adjacent(prev, index) && !out.ends_with(' ') {
                out.push(' ');
            }
        }
        out.push_str(text.token_text(index));
        previous = Some(index);
    }
    let mut cleaned = out.replace(" ,", ",").replace("( ", "(").replace(" )", ")");
    while cleaned.contains("  ") {
        cleaned = cleaned.replace("  ", " ");
    }
    for pair in ["- -", "| |", ", ,"] {
        cleaned = cleaned.replace(pair, &pair[..1]);
    }
    cleaned
        .trim_matches(|c: char| c.is_whitespace() || "-:|,./&".contains(c))
        .to_owned()
}

fn truncate(title: &str, max_chars: usize) -> String {
    if title.chars().count() <= max_chars {
        return title.to_owned();
    }
    let cut: String = title.chars().take(max_chars).collect();
    match cut.rfind(' ') {
        Some(space) => cut[..space].trim_end_matches([',', '-', ' ']).to_owned(),
        None => cut,
    }
}
