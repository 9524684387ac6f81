//! Sizes: numeric (EU/UK/US, half sizes, ranges), letters (XS–6XL, XXL = 2XL),
//! "free size" / "one size" in several languages, and baby and kids' ages.

use super::text::{Kind, Text};

const SIZE_WORDS: &[&str] = &[
    "size",
    "sizes",
    "sz",
    "sizez",
    "taille",
    "tailles",
    "pointure",
    "talla",
    "tallas",
    "tamanho",
    "tamanhos",
    "tam",
    "saiz",
    "ukuran",
    "numero",
    "no",
    "nos",
    "pointures",
    "talle",
    "talles",
    "taglia",
    "taglie",
    "размер",
    "размеры",
    "розмір",
    "розміри",
    "saizi",
    "waist",
    "grosse",
    "große",
    "maat",
    "beden",
];
const LETTERS: &[&str] = &[
    "xxs", "xs", "s", "m", "l", "xl", "2xl", "3xl", "4xl", "5xl", "6xl",
];
const SEPARATORS: &[&str] = &[
    ",", "/", "|", "&", "+", ":", ";", "and", "y", "e", "et", "na", "dan", "und", "or", "ou", "o",
    "atau",
];
const RANGE_WORDS: &[&str] = &[
    "-", "to", "a", "au", "al", "ao", "ate", "hingga", "sampai", "hadi", "till", "until", "thru",
    "through", "~",
];
/// Articles and prepositions inside a written range ("de la 22 a la 26", "del 36 al 40").
const RANGE_ARTICLES: &[&str] = &["de", "la", "el", "del", "le", "les", "from"];
const FILLER: &[&str] = &[
    "available",
    "avail",
    "in",
    "from",
    "only",
    "is",
    "are",
    "=",
    "-",
    ":",
    "disponible",
    "disponibles",
    "disponivel",
    "ready",
    "stock",
    "instock",
];
const FOOTWEAR: &[&str] = &[
    "shoe",
    "shoes",
    "sneaker",
    "sneakers",
    "heels",
    "heel",
    "sandal",
    "sandals",
    "boots",
    "boot",
    "slippers",
    "slides",
    "loafers",
    "kicks",
    "trainers",
    "zapatillas",
    "zapatos",
    "chaussures",
    "baskets",
    "sapatos",
    "tenis",
    "kasut",
    "viatu",
    "sepatu",
    "crocs",
    "jordan",
    "jordans",
    "yeezy",
    "mules",
    "pumps",
    "flats",
    "brogues",
    "footwear",
    "airforce",
    "sandalias",
    "sandales",
    "sandalia",
    "botas",
    "bottes",
    "tacones",
    "chinelos",
    "sapatilhas",
];
const SHOE_BRANDS: &[&str] = &[
    "nike",
    "adidas",
    "vans",
    "converse",
    "puma",
    "reebok",
    "timberland",
    "samba",
    "asics",
    "skechers",
    "clarks",
];
const CLOTHING: &[&str] = &[
    "dress",
    "dresses",
    "gown",
    "gowns",
    "jeans",
    "trousers",
    "pants",
    "shorts",
    "skirt",
    "skirts",
    "top",
    "tops",
    "shirt",
    "shirts",
    "jacket",
    "jackets",
    "blazer",
    "suit",
    "suits",
    "chinos",
    "joggers",
    "hoodie",
    "hoodies",
    "tee",
    "tees",
    "blouse",
    "jumpsuit",
    "coat",
    "coats",
    "leggings",
    "vestido",
    "robe",
    "camisa",
    "calca",
    "pantalon",
    "pantalones",
    "baju",
    "kemeja",
    "nguo",
    "jersey",
    "bodycon",
    "abaya",
    "kaftan",
    "waist",
];
const MONTH_UNITS: &[&str] = &[
    "m", "months", "month", "mths", "mos", "mo", "meses", "mois", "bulan", "miezi",
];
const YEAR_UNITS: &[&str] = &[
    "y", "yrs", "years", "year", "yr", "ans", "anos", "tahun", "miaka", "t",
];

#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct SizeFindings {
    pub sizes: Vec<String>,
    pub systems: Vec<&'static str>,
    pub from_keyword: bool,
    pub claimed: Vec<usize>,
}

impl SizeFindings {
    fn push(&mut self, size: String) {
        if !self.sizes.contains(&size) {
            self.sizes.push(size);
        }
    }

    fn system(&mut self, system: &'static str) {
        if !self.systems.contains(&system) {
            self.systems.push(system);
        }
    }

    /// One name for the systems seen: `EU`, `UK`, `US`, `letter`, `age`, `one_size` or `mixed`.
    pub fn size_system(&self) -> Option<&'static str> {
        match self.systems.as_slice() {
            [] => None,
            [one] => Some(one),
            _ => Some("mixed"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Item {
    Number(f64),
    Letter(usize),
    Age {
        low: u32,
        high: Option<u32>,
        months: bool,
    },
}

/// `phones` marks the tokens of phone numbers and identifiers: a size list stops there ("UK 7,
/// +44 7400 …" is size 7 and a phone).
pub(crate) fn find_sizes(text: &Text, market: Option<&str>, phones: &[bool]) -> SizeFindings {
    let mut found = SizeFindings::default();
    let hints = |list: &[&str]| {
        text.folded
            .iter()
            .any(|w| list.contains(&w.trim_start_matches('#')))
    };
    let clothing = hints(CLOTHING);
    let footwear = hints(FOOTWEAR)
        || text.folded.iter().any(|w| w.contains("shoe"))
        || (hints(SHOE_BRANDS) && !clothing);
    let shape = Garment { footwear, clothing };
    one_size(text, &mut found);
    let mut index = 0;
    while index < text.tokens.len() {
        let keyword = text.folded_is(index, SIZE_WORDS) && text.is(index, Kind::Word);
        let system = system_marker(text, index);
        if keyword || system.is_some() {
            let start = if keyword { index + 1 } else { index };
            let end = read_list(text, start, shape, market, &mut found, keyword, phones);
            if end > start {
                found.claimed.extend(index..end);
                index = end;
                continue;
            }
        }
        index += 1;
    }
    letter_runs(text, &mut found);
    age_ranges(text, &mut found);
    found
}

fn system_marker(text: &Text, index: usize) -> Option<&'static str> {
    let next_is_number = text
        .next_solid(index)
        .is_some_and(|n| text.is(n, Kind::Number));
    if !next_is_number || !text.is(index, Kind::Word) {
        return None;
    }
    match text.token_text(index) {
        "EU" | "Eu" | "eu" | "EUR" => Some("EU"),
        "UK" | "Uk" => Some("UK"),
        "US" | "Us" => Some("US"),
        _ => None,
    }
}

/// Reads a size list from `start` on one line; answers the index after what it consumed.
fn read_list(
    text: &Text,
    start: usize,
    shape: Garment,
    market: Option<&str>,
    found: &mut SizeFindings,
    keyword: bool,
    phones: &[bool],
) -> usize {
    let (_, line_end) = text.line_of(start.min(text.tokens.len().saturating_sub(1)));
    let mut items: Vec<(Item, Option<&'static str>)> = Vec::new();
    let mut system: Option<&'static str> = None;
    let mut range_pending = false;
    let mut consumed = start;
    let mut index = start;
    while index < line_end && !phones.get(index).copied().unwrap_or(false) {
        let token = text.tokens[index];
        let folded = text.folded[index].as_str();
        let item = match token.kind {
            Kind::Space => {
                index += 1;
                continue;
            }
            Kind::Word if system_marker(text, index).is_some() => {
                system = system_marker(text, index);
                index += 1;
                continue;
            }
            Kind::Number if text.token_text(index).contains(',') && !range_pending => {
                match comma_list(text.token_text(index)) {
                    Some(numbers) => {
                        items.extend(numbers.into_iter().map(|n| (Item::Number(n), system)));
                        consumed = index + 1;
                        index += 1;
                        continue;
                    }
                    None => None,
                }
            }
            // A number with a currency next to it is a price ("pointure 39 50€"), not a size.
            Kind::Number if next_to_currency(text, index) => break,
            Kind::Number => match read_number_item(text, index) {
                Some((item, last)) => {
                    index = last;
                    Some(item)
                }
                None => None,
            },
            Kind::Word => letter_index(text, index, true)
                .map(Item::Letter)
                .or(match folded {
                    "small" => Some(Item::Letter(2)),
                    "medium" => Some(Item::Letter(3)),
                    "large" => Some(Item::Letter(4)),
                    // Brazilian P / M / G / GG after "tamanho".
                    "p" if keyword => Some(Item::Letter(2)),
                    "g" if keyword => Some(Item::Letter(4)),
                    "gg" if keyword => Some(Item::Letter(5)),
                    "xgg" | "xg" if keyword => Some(Item::Letter(6)),
                    "newborn" | "nb" if keyword => Some(Item::Age {
                        low: 0,
                        high: None,
                        months: true,
                    }),
                    _ => None,
                }),
            _ => None,
        };
        match item {
            Some(item) => {
                if let (true, Some((Item::Number(low), _)), Item::Number(high)) =
                    (range_pending, items.last(), item)
                {
                    if let Some(range) = expand_numbers(*low, high, shape) {
                        items.pop();
                        items.extend(range.into_iter().map(|n| (Item::Number(n), system)));
                    } else {
                        break;
                    }
                } else if let (true, Some((Item::Letter(low), _)), Item::Letter(high)) =
                    (range_pending, items.last(), item)
                {
                    let low = *low;
                    if high > low {
                        items.extend((low + 1..=high).map(|l| (Item::Letter(l), system)));
                    }
                } else {
                    items.push((item, system));
                }
                range_pending = false;
                consumed = index + 1;
            }
            None if !items.is_empty() && text.folded_is(index, RANGE_WORDS) => range_pending = true,
            None if (range_pending || items.is_empty())
                && text.folded_is(index, RANGE_ARTICLES) => {}
            None if !items.is_empty() && text.folded_is(index, SEPARATORS) => {}
            None if items.is_empty()
                && (text.folded_is(index, FILLER)
                    || token.kind == Kind::Emoji
                    || token.kind == Kind::Punct) => {}
            None => break,
        }
        index += 1;
    }
    if items.is_empty() {
        return start;
    }
    for (item, explicit) in items {
        match item {
            Item::Number(n) => {
                found.push(format_number(n));
                found.system(explicit.unwrap_or_else(|| infer_system(n, shape, market)));
            }
            Item::Letter(l) => {
                found.push(LETTERS[l].to_ascii_uppercase());
                found.system("letter");
            }
            Item::Age { .. } => {
                found.push(format_age(item));
                found.system("age");
            }
        }
    }
    found.from_keyword = true;
    consumed
}

/// A currency sign or word right before or after the number.
fn next_to_currency(text: &Text, index: usize) -> bool {
    let is_currency = |i: usize| {
        super::currency::sign(text.token_text(i)).is_some()
            || (text.is(i, Kind::Word) && super::currency::word(&text.folded[i]).is_some())
    };
    // A sign after the number is its suffix only when no number follows the sign:
    // in "38-44 ₦25k" the ₦ belongs to 25k.
    let suffix = text.next_solid(index).is_some_and(|n| {
        is_currency(n) && !text.next_solid(n).is_some_and(|m| text.is(m, Kind::Number))
    });
    suffix
        || text
            .prev_solid(index)
            .is_some_and(|p| text.adjacent(p, index) && is_currency(p))
}

/// A number item: "38", "7.5", "8½", "2XL" (number glued to XL), "3-6m" handled by ages.
fn read_number_item(text: &Text, index: usize) -> Option<(Item, usize)> {
    let raw = text.token_text(index);
    let next = index + 1;
    if text.is(next, Kind::Word) && text.adjacent(index, next) {
        let unit = text.folded[next].as_str();
        if unit == "xl" {
            let n: usize = raw.parse().ok()?;
            return (2..=6).contains(&n).then_some((Item::Letter(4 + n), next));
        }
        let n: u32 = raw.parse().ok()?;
        if MONTH_UNITS.contains(&unit) || YEAR_UNITS.contains(&unit) {
            return Some((
                Item::Age {
                    low: n,
                    high: None,
                    months: MONTH_UNITS.contains(&unit),
                },
                next,
            ));
        }
        return None;
    }
    let mut value: f64 = raw.replace(',', ".").parse().ok()?;
    let mut last = index;
    if text.token_text(next.min(text.tokens.len() - 1)) == "½" && text.adjacent(index, next) {
        value += 0.5;
        last = next;
    }
    let half_or_whole = (value * 2.0).fract() == 0.0;
    (half_or_whole && value > 0.0 && value <= 60.0).then_some((Item::Number(value), last))
}

/// What the caption sells, as far as sizes care.
#[derive(Debug, Clone, Copy)]
struct Garment {
    footwear: bool,
    clothing: bool,
}

impl Garment {
    /// EU shoe sizes run 35–48; clothing words win over the number alone.
    fn shoe_sized(self, size: f64) -> bool {
        self.footwear || (size >= 35.0 && !self.clothing)
    }
}

/// "3,4,5" or "40,41,42" written without spaces: one token, several sizes.
fn comma_list(raw: &str) -> Option<Vec<f64>> {
    let numbers: Vec<f64> = raw
        .split(',')
        .map(|g| g.parse::<f64>().ok().filter(|n| *n > 0.0 && *n <= 60.0))
        .collect::<Option<_>>()?;
    (numbers.len() >= 2).then_some(numbers)
}

fn expand_numbers(low: f64, high: f64, shape: Garment) -> Option<Vec<f64>> {
    if high <= low || high - low > 24.0 || low.fract() != 0.0 || high.fract() != 0.0 {
        return None;
    }
    // Dress and waist sizes go in twos (8, 10, 12; 28, 30, 32); shoes go in ones.
    let even = low % 2.0 == 0.0 && high % 2.0 == 0.0;
    let step = if even && !shape.shoe_sized(low) {
        2.0
    } else {
        1.0
    };
    let mut sizes = Vec::new();
    let mut n = low;
    while n <= high {
        sizes.push(n);
        n += step;
    }
    Some(sizes)
}

fn infer_system(size: f64, shape: Garment, market: Option<&str>) -> &'static str {
    let market = market.map(str::to_ascii_uppercase);
    let american = matches!(market.as_deref(), Some("US" | "CA" | "MX" | "PH"));
    if size >= 33.0 && shape.shoe_sized(size) {
        "EU"
    } else if size >= 33.0 {
        "numeric"
    } else if american {
        "US"
    } else if matches!(
        market.as_deref(),
        Some(
            "GB" | "UK"
                | "IE"
                | "NG"
                | "GH"
                | "KE"
                | "UG"
                | "TZ"
                | "ZA"
                | "RW"
                | "ZM"
                | "ZW"
                | "MW"
                | "AU"
                | "NZ"
        )
    ) {
        "UK"
    } else {
        "numeric"
    }
}

/// Index into `LETTERS` of a letter-size word. A lone s/m/l counts only in capitals,
/// unless it follows a "size" keyword.
fn letter_index(text: &Text, index: usize, lowercase_single_ok: bool) -> Option<usize> {
    let original = text.token_text(index);
    let normalised = match text.folded[index].as_str() {
        "xxxl" => "3xl",
        "xxxxl" => "4xl",
        "xxl" => "2xl",
        other => other,
    };
    let position = LETTERS.iter().position(|&l| l == normalised)?;
    let lone_lowercase = original.len() == 1 && !original.chars().all(|c| c.is_ascii_uppercase());
    (!lone_lowercase || lowercase_single_ok).then_some(position)
}

/// Letter sizes outside a "size" phrase: runs like "S M L XL", "S-XXL", or a lone XL+.
fn letter_runs(text: &Text, found: &mut SizeFindings) {
    let mut index = 0;
    while index < text.tokens.len() {
        if found.claimed.contains(&index) {
            index += 1;
            continue;
        }
        let mut run: Vec<(usize, usize)> = Vec::new();
        let mut ranged = Vec::new();
        let mut cursor = index;
        let mut pending_range = false;
        while let Some(letter) = letter_at(text, cursor) {
            if pending_range {
                ranged.push(run.len());
            }
            run.push((letter.0, cursor));
            pending_range = false;
            let mut next = letter.1 + 1;
            while next < text.tokens.len() {
                if text.is(next, Kind::Space) {
                    next += 1;
                } else if text.folded_is(next, &["-", "to", "~"]) {
                    pending_range = true;
                    next += 1;
                } else if text.folded_is(next, SEPARATORS) {
                    next += 1;
                } else {
                    break;
                }
            }
            cursor = next;
            if letter_at(text, cursor).is_none() {
                cursor = letter.1 + 1;
                break;
            }
        }
        let unambiguous = run.len() == 1 && run[0].0 != 2 && run[0].0 != 3 && run[0].0 != 4;
        if run.len() >= 2 || unambiguous {
            let mut previous: Option<usize> = None;
            for (position, &(letter, token)) in run.iter().enumerate() {
                if let (true, Some(from)) = (ranged.contains(&position), previous) {
                    // Sellers write ranges both ways ("S-XL", "XL-S"): fill in the letters
                    // between the two ends in the direction written.
                    let between: Vec<usize> = if from < letter {
                        (from + 1..letter).collect()
                    } else {
                        (letter + 1..from).rev().collect()
                    };
                    for between in between {
                        found.push(LETTERS[between].to_ascii_uppercase());
                    }
                }
                found.push(LETTERS[letter].to_ascii_uppercase());
                found.claimed.push(token);
                previous = Some(letter);
            }
            found.system("letter");
            index = cursor.max(index + 1);
        } else {
            index += 1;
        }
    }
}

/// A letter size at `index`: a word, or a number glued to "XL". Answers (letter, last token).
fn letter_at(text: &Text, index: usize) -> Option<(usize, usize)> {
    match text.tokens.get(index)?.kind {
        Kind::Word => {
            let letter = letter_index(text, index, false)?;
            let single = text.token_text(index).len() == 1;
            // A lone capital must stand apart from words: "L" in "L'Oréal" is not a size.
            let standalone = !single
                || !text
                    .tokens
                    .get(index + 1)
                    .is_some_and(|t| t.kind == Kind::Word || text.token_text(index + 1) == "'");
            standalone.then_some((letter, index))
        }
        Kind::Number => match read_number_item(text, index)? {
            (Item::Letter(l), last) => Some((l, last)),
            _ => None,
        },
        _ => None,
    }
}

fn one_size(text: &Text, found: &mut SizeFindings) {
    const PAIRS: &[(&str, &str)] = &[
        ("free", "size"),
        ("one", "size"),
        ("taille", "unique"),
        ("talla", "unica"),
        ("tamanho", "unico"),
        ("saiz", "bebas"),
        ("all", "size"),
        ("fits", "all"),
        ("standard", "size"),
        ("ukuran", "bebas"),
        ("one", "sizes"),
        ("size", "moja"),
    ];
    let solid: Vec<usize> = (0..text.tokens.len())
        .filter(|&i| !text.is(i, Kind::Space) && text.token_text(i) != "-")
        .collect();
    for window in solid.windows(2) {
        let pair = (
            text.folded[window[0]].as_str(),
            text.folded[window[1]].as_str(),
        );
        if PAIRS.contains(&pair) {
            found.push("ONE SIZE".to_owned());
            found.system("one_size");
            found.claimed.extend(window[0]..=window[1]);
        }
    }
    for (index, word) in text.folded.iter().enumerate() {
        if matches!(word.as_str(), "freesize" | "onesize" | "os")
            && (word != "os" || text.token_text(index) == "OS")
        {
            found.push("ONE SIZE".to_owned());
            found.system("one_size");
            found.claimed.push(index);
        }
    }
}

/// Words before a range that make it an age in years: "age 4-6", "edad 2 a 4".
const AGE_WORDS: &[&str] = &["age", "ages", "aged", "edad", "idade", "umur", "ans"];

/// "0-3 months", "3-6m", "2-3 yrs", "1 to 2 years", "age 4-6".
fn age_ranges(text: &Text, found: &mut SizeFindings) {
    for index in 0..text.tokens.len() {
        if !text.is(index, Kind::Number) || found.claimed.contains(&index) {
            continue;
        }
        let Ok(low) = text.token_text(index).parse::<u32>() else {
            continue;
        };
        let Some(dash) = text
            .next_solid(index)
            .filter(|&d| text.folded_is(d, &["-", "to", "a", "~"]))
        else {
            continue;
        };
        let Some(high_token) = text.next_solid(dash).filter(|&h| text.is(h, Kind::Number)) else {
            continue;
        };
        let Ok(high) = text.token_text(high_token).parse::<u32>() else {
            continue;
        };
        // "age 4-6": the word before says years when no unit follows.
        let age_before = text
            .prev_solid(index)
            .is_some_and(|w| text.folded_is(w, AGE_WORDS));
        let unit = text
            .next_solid(high_token)
            .filter(|&u| text.is(u, Kind::Word))
            .filter(|&u| {
                let word = text.folded[u].as_str();
                MONTH_UNITS.contains(&word) || YEAR_UNITS.contains(&word)
            });
        let Some(unit) = unit.or(age_before.then_some(high_token)) else {
            continue;
        };
        let unit_word = text.folded[unit].as_str();
        let months = MONTH_UNITS.contains(&unit_word);
        if !(months || YEAR_UNITS.contains(&unit_word) || age_before)
            || high <= low
            || high > if months { 36 } else { 16 }
        {
            continue;
        }
        found.push(format_age(Item::Age {
            low,
            high: Some(high),
            months,
        }));
        found.system("age");
        found.claimed.extend(index..=unit);
    }
}

fn format_number(n: f64) -> String {
    if n.fract() == 0.0 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

fn format_age(item: Item) -> String {
    match item {
        Item::Age {
            low: 0,
            high: None,
            months: true,
        } => "NB".to_owned(),
        Item::Age { low, high, months } => {
            let unit = if months { "M" } else { "Y" };
            match high {
                Some(high) => format!("{low}-{high}{unit}"),
                None => format!("{low}{unit}"),
            }
        }
        _ => String::new(),
    }
}
