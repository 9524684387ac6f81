//! Colour words in several languages and as emoji, to English base colour names.

use super::text::{Kind, Text};

/// Colour words (folded) to English base names.
const COLOURS: &[(&str, &str)] = &[
    // English
    ("black", "black"),
    ("white", "white"),
    ("red", "red"),
    ("blue", "blue"),
    ("green", "green"),
    ("yellow", "yellow"),
    ("orange", "orange"),
    ("pink", "pink"),
    ("purple", "purple"),
    ("brown", "brown"),
    ("grey", "grey"),
    ("gray", "grey"),
    ("beige", "beige"),
    ("gold", "gold"),
    ("golden", "gold"),
    ("silver", "silver"),
    ("navy", "blue"),
    ("maroon", "red"),
    ("burgundy", "red"),
    ("wine", "red"),
    ("crimson", "red"),
    ("scarlet", "red"),
    ("teal", "blue"),
    ("turquoise", "blue"),
    ("aqua", "blue"),
    ("cyan", "blue"),
    ("indigo", "blue"),
    ("khaki", "beige"),
    ("camel", "beige"),
    ("tan", "beige"),
    ("nude", "beige"),
    ("ivory", "white"),
    ("cream", "beige"),
    ("offwhite", "white"),
    ("charcoal", "grey"),
    ("lilac", "purple"),
    ("lavender", "purple"),
    ("violet", "purple"),
    ("mauve", "purple"),
    ("plum", "purple"),
    ("fuchsia", "pink"),
    ("magenta", "pink"),
    ("peach", "orange"),
    ("coral", "orange"),
    ("mustard", "yellow"),
    ("olive", "green"),
    ("mint", "green"),
    ("emerald", "green"),
    ("lime", "green"),
    ("sage", "green"),
    ("multicolor", "multicolor"),
    ("multicolour", "multicolor"),
    ("multicoloured", "multicolor"),
    ("multicolored", "multicolor"),
    ("rainbow", "multicolor"),
    ("assorted", "multicolor"),
    // French
    ("noir", "black"),
    ("noire", "black"),
    ("blanc", "white"),
    ("blanche", "white"),
    ("rouge", "red"),
    ("bleu", "blue"),
    ("bleue", "blue"),
    ("vert", "green"),
    ("verte", "green"),
    ("jaune", "yellow"),
    ("rose", "pink"),
    ("violette", "purple"),
    ("marron", "brown"),
    ("gris", "grey"),
    ("grise", "grey"),
    ("dore", "gold"),
    ("doree", "gold"),
    ("argente", "silver"),
    ("argentee", "silver"),
    ("bordeaux", "red"),
    ("kaki", "beige"),
    ("creme", "beige"),
    // Spanish
    ("negro", "black"),
    ("negra", "black"),
    ("blanco", "white"),
    ("blanca", "white"),
    ("rojo", "red"),
    ("roja", "red"),
    ("azul", "blue"),
    ("verde", "green"),
    ("amarillo", "yellow"),
    ("amarilla", "yellow"),
    ("rosa", "pink"),
    ("rosado", "pink"),
    ("morado", "purple"),
    ("morada", "purple"),
    ("lila", "purple"),
    ("gris", "grey"),
    ("naranja", "orange"),
    ("dorado", "gold"),
    ("dorada", "gold"),
    ("plateado", "silver"),
    ("plateada", "silver"),
    ("celeste", "blue"),
    ("fucsia", "pink"),
    ("turquesa", "blue"),
    ("vino", "red"),
    // Portuguese
    ("preto", "black"),
    ("preta", "black"),
    ("branco", "white"),
    ("branca", "white"),
    ("vermelho", "red"),
    ("vermelha", "red"),
    ("amarelo", "yellow"),
    ("amarela", "yellow"),
    ("roxo", "purple"),
    ("roxa", "purple"),
    ("marrom", "brown"),
    ("castanho", "brown"),
    ("castanha", "brown"),
    ("cinza", "grey"),
    ("laranja", "orange"),
    ("prateado", "silver"),
    ("prateada", "silver"),
    ("bege", "beige"),
    ("vinho", "red"),
    // Swahili
    ("nyeusi", "black"),
    ("nyeupe", "white"),
    ("nyekundu", "red"),
    ("bluu", "blue"),
    ("buluu", "blue"),
    ("kijani", "green"),
    ("njano", "yellow"),
    ("manjano", "yellow"),
    ("pinki", "pink"),
    ("zambarau", "purple"),
    ("kahawia", "brown"),
    ("hudhurungi", "brown"),
    ("kijivu", "grey"),
    ("dhahabu", "gold"),
    ("machungwa", "orange"),
    // Malay / Indonesian
    ("hitam", "black"),
    ("putih", "white"),
    ("merah", "red"),
    ("biru", "blue"),
    ("hijau", "green"),
    ("kuning", "yellow"),
    ("ungu", "purple"),
    ("coklat", "brown"),
    ("cokelat", "brown"),
    ("kelabu", "grey"),
    ("abu", "grey"),
    ("emas", "gold"),
    ("perak", "silver"),
    ("oren", "orange"),
    ("oranye", "orange"),
    ("jingga", "orange"),
    ("krim", "beige"),
    // Filipino
    ("itim", "black"),
    ("puti", "white"),
    ("pula", "red"),
    ("asul", "blue"),
    ("berde", "green"),
    ("dilaw", "yellow"),
    ("rosas", "pink"),
    ("kayumanggi", "brown"),
    // Hindi, romanised as sellers write it
    ("kala", "black"),
    ("kaala", "black"),
    ("kaali", "black"),
    ("safed", "white"),
    ("safaid", "white"),
    ("laal", "red"),
    ("lal", "red"),
    ("neela", "blue"),
    ("nila", "blue"),
    ("hara", "green"),
    ("peela", "yellow"),
    ("gulabi", "pink"),
    ("bhura", "brown"),
    // Turkish
    ("siyah", "black"),
    ("beyaz", "white"),
    ("kirmizi", "red"),
    ("mavi", "blue"),
    ("lacivert", "blue"),
    ("yesil", "green"),
    // (not "sari", yellow: it is also the garment)
    ("pembe", "pink"),
    ("mor", "purple"),
    ("kahverengi", "brown"),
    ("gri", "grey"),
    ("bej", "beige"),
    ("turuncu", "orange"),
    // Arabic (masculine and feminine forms; a leading و "and" is stripped)
    // Plurals the lists above lack.
    ("noirs", "black"),
    ("noires", "black"),
    ("blancs", "white"),
    ("blanches", "white"),
    ("rouges", "red"),
    ("bleus", "blue"),
    ("bleues", "blue"),
    ("negros", "black"),
    ("negras", "black"),
    ("blancos", "white"),
    ("blancas", "white"),
    ("rojos", "red"),
    ("rojas", "red"),
    ("azules", "blue"),
    // German
    ("schwarz", "black"),
    ("schwarze", "black"),
    ("schwarzer", "black"),
    ("schwarzes", "black"),
    ("weiss", "white"),
    ("weiß", "white"),
    ("weisse", "white"),
    ("weiße", "white"),
    ("rot", "red"),
    ("rote", "red"),
    ("blau", "blue"),
    ("blaue", "blue"),
    ("grun", "green"),
    ("grune", "green"),
    ("gelb", "yellow"),
    ("braun", "brown"),
    ("braune", "brown"),
    ("grau", "grey"),
    ("graue", "grey"),
    ("silber", "silver"),
    // Italian
    ("nero", "black"),
    ("nera", "black"),
    ("neri", "black"),
    ("nere", "black"),
    ("bianco", "white"),
    ("bianca", "white"),
    ("bianchi", "white"),
    ("rosso", "red"),
    ("rossa", "red"),
    ("blu", "blue"),
    ("azzurro", "blue"),
    ("giallo", "yellow"),
    ("gialla", "yellow"),
    ("marrone", "brown"),
    ("grigio", "grey"),
    ("grigia", "grey"),
    ("argento", "silver"),
    // Russian and Ukrainian (folded: ё is е)
    ("черный", "black"),
    ("черная", "black"),
    ("черное", "black"),
    ("черные", "black"),
    ("белый", "white"),
    ("белая", "white"),
    ("белое", "white"),
    ("красный", "red"),
    ("красная", "red"),
    ("синий", "blue"),
    ("синяя", "blue"),
    ("зеленый", "green"),
    ("зеленая", "green"),
    ("серый", "grey"),
    ("серая", "grey"),
    ("коричневый", "brown"),
    ("коричневая", "brown"),
    ("розовый", "pink"),
    ("розовая", "pink"),
    ("бежевый", "beige"),
    ("бежевая", "beige"),
    ("чорний", "black"),
    ("чорна", "black"),
    ("білий", "white"),
    ("біла", "white"),
    ("червоний", "red"),
    ("червона", "red"),
    ("синій", "blue"),
    ("синя", "blue"),
    ("зелений", "green"),
    ("зелена", "green"),
    ("сірий", "grey"),
    ("сіра", "grey"),
    ("коричневий", "brown"),
    ("рожевий", "pink"),
    ("бежевий", "beige"),
    // Vietnamese (đ is kept apart from d by the fold, so "đen" is not German "den")
    ("đen", "black"),
    ("trắng", "white"),
    ("đỏ", "red"),
    ("hồng", "pink"),
    ("nau", "brown"),
    ("xam", "grey"),
    ("أسود", "black"),
    ("سوداء", "black"),
    ("اسود", "black"),
    ("أبيض", "white"),
    ("بيضاء", "white"),
    ("ابيض", "white"),
    ("أحمر", "red"),
    ("حمراء", "red"),
    ("أزرق", "blue"),
    ("زرقاء", "blue"),
    ("أخضر", "green"),
    ("خضراء", "green"),
    ("أصفر", "yellow"),
    ("صفراء", "yellow"),
    ("وردي", "pink"),
    ("بني", "brown"),
    ("رمادي", "grey"),
    ("بيج", "beige"),
    ("ذهبي", "gold"),
    ("فضي", "silver"),
];

const COLOUR_EMOJI: &[(char, &str)] = &[
    ('⚫', "black"),
    ('⬛', "black"),
    ('⚪', "white"),
    ('⬜', "white"),
    ('🔴', "red"),
    ('🟥', "red"),
    ('🔵', "blue"),
    ('🟦', "blue"),
    ('🟢', "green"),
    ('🟩', "green"),
    ('🟡', "yellow"),
    ('🟨', "yellow"),
    ('🟠', "orange"),
    ('🟧', "orange"),
    ('🟣', "purple"),
    ('🟪', "purple"),
    ('🟤', "brown"),
    ('🟫', "brown"),
];

/// Coloured hearts: a run of two or more ("🖤🤍") lists colourways; one heart alone is
/// affection ("Zara blazer 🖤"), and the red ❤️ nearly always is.
const HEART_EMOJI: &[(char, &str)] = &[
    ('🖤', "black"),
    ('🤍', "white"),
    ('💙', "blue"),
    ('🩵', "blue"),
    ('💚', "green"),
    ('💛', "yellow"),
    ('🧡', "orange"),
    ('💜', "purple"),
    ('🤎', "brown"),
    ('🩷', "pink"),
    ('🩶', "grey"),
];

/// Word pairs where a colour word is not a colour.
const NOT_COLOUR_PAIRS: &[(&str, &str)] = &[
    ("black", "friday"),
    ("orange", "money"),
    ("red", "bull"),
    ("green", "card"),
    ("blue", "tick"),
    ("gold", "coast"),
    ("white", "castle"),
    ("red", "carpet"),
    ("face", "cream"),
    ("body", "cream"),
    ("hand", "cream"),
    ("eye", "cream"),
    ("cream", "cleanser"),
    ("ice", "cream"),
    ("night", "cream"),
    ("day", "cream"),
    ("hair", "cream"),
    ("cafe", "con"),
    ("rose", "water"),
    ("mint", "condition"),
    ("olive", "oil"),
    ("silver", "plated"),
    ("gold", "plated"),
];

/// Words after which the next colour word is part of a compound: "merah jambu" is pink, "abu abu" grey.
const COMPOUNDS: &[(&str, &str, &str)] = &[
    ("merah", "jambu", "pink"),
    ("rose", "gold", "gold"),
    ("off", "white", "white"),
];

pub(crate) fn find_colours(text: &Text) -> Vec<String> {
    let mut colours: Vec<String> = Vec::new();
    let mut push = |c: &str| {
        if !colours.iter().any(|x| x == c) {
            colours.push(c.to_owned());
        }
    };
    let solid: Vec<usize> = (0..text.tokens.len())
        .filter(|&i| !matches!(text.tokens[i].kind, Kind::Space | Kind::Newline))
        .collect();
    let mut skip_next = false;
    for (position, &index) in solid.iter().enumerate() {
        if std::mem::take(&mut skip_next) {
            continue;
        }
        let token = text.tokens[index];
        match token.kind {
            Kind::Word => {
                let word = text.folded[index].as_str();
                let next = solid
                    .get(position + 1)
                    .map(|&n| text.folded[n].as_str())
                    .unwrap_or_default();
                let prev = position
                    .checked_sub(1)
                    .map(|p| text.folded[solid[p]].as_str())
                    .unwrap_or_default();
                if let Some(&(_, _, base)) =
                    COMPOUNDS.iter().find(|(a, b, _)| *a == word && *b == next)
                {
                    push(base);
                    skip_next = true;
                    continue;
                }
                if NOT_COLOUR_PAIRS.contains(&(word, next))
                    || NOT_COLOUR_PAIRS.contains(&(prev, word))
                {
                    continue;
                }
                let colour = |w: &str| COLOURS.iter().find(|(c, _)| *c == w).map(|&(_, b)| b);
                if let Some(base) = colour(word).or_else(|| word.strip_prefix('و').and_then(colour))
                {
                    push(base);
                }
            }
            Kind::Emoji => {
                // A run of emoji may be one token: "🔴🔵" names two colours.
                let symbols = text.token_text(index).chars();
                let lookup = |table: &[(char, &'static str)], c: char| {
                    table.iter().find(|(e, _)| *e == c).map(|&(_, base)| base)
                };
                // Hearts count over the whole run of emoji this one belongs to.
                let mut run_start = index;
                while run_start > 0
                    && text.is(run_start - 1, Kind::Emoji)
                    && text.adjacent(run_start - 1, run_start)
                {
                    run_start -= 1;
                }
                let mut run_end = index;
                while text.is(run_end + 1, Kind::Emoji) && text.adjacent(run_end, run_end + 1) {
                    run_end += 1;
                }
                let hearts: Vec<&str> = (run_start..=run_end)
                    .flat_map(|t| text.token_text(t).chars())
                    .filter_map(|c| lookup(HEART_EMOJI, c))
                    .collect();
                for symbol in symbols {
                    if let Some(base) = lookup(COLOUR_EMOJI, symbol) {
                        push(base);
                    }
                }
                if hearts.len() >= 2 {
                    hearts.iter().for_each(|base| push(base));
                }
            }
            _ => {}
        }
    }
    colours
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_across_languages_and_emoji() {
        let text =
            Text::new("Disponible en noir, Rouge et 🔵 • preta • merah jambu • Black Friday deal");
        assert_eq!(find_colours(&text), vec!["black", "red", "blue", "pink"]);
    }
}
