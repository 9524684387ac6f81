//! Caption text as the analysers see it: normalised, tokenised, with offsets back into
//! the caption as received.
//!
//! Sellers decorate captions with "mathematical bold" letters (𝐏𝐫𝐢𝐜𝐞), full-width digits,
//! non-breaking spaces and combining strike-through (5̶0̶0̶0̶) for old prices. Normalising
//! first lets one set of rules read them all; the offset map keeps spans exact.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Word,
    Number,
    /// A currency sign (Unicode category Sc).
    Symbol,
    Punct,
    Space,
    Newline,
    Hashtag,
    Mention,
    Url,
    /// Emoji and any other symbol.
    Emoji,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Token {
    pub kind: Kind,
    /// Byte offsets into `Text::norm`.
    pub start: usize,
    pub end: usize,
}

pub(crate) struct Text {
    pub norm: String,
    /// Original character index of each byte of `norm`, plus one entry for its end.
    orig_char: Vec<u32>,
    /// Byte ranges of `norm` whose original characters were struck through.
    pub struck: Vec<(usize, usize)>,
    pub tokens: Vec<Token>,
    /// Lower-case, accent-folded text of each token (empty for spaces).
    pub folded: Vec<String>,
}

impl Text {
    pub fn new(caption: &str) -> Self {
        let (norm, orig_char, struck) = normalise(caption);
        let tokens = tokenise(&norm);
        let folded = tokens
            .iter()
            .map(|t| match t.kind {
                Kind::Space | Kind::Newline => String::new(),
                _ => crate::fold::fold(&norm[t.start..t.end]),
            })
            .collect();
        Self {
            norm,
            orig_char,
            struck,
            tokens,
            folded,
        }
    }

    pub fn token_text(&self, index: usize) -> &str {
        let token = self.tokens[index];
        &self.norm[token.start..token.end]
    }

    /// Character offsets into the original caption for a byte range of `norm`.
    pub fn original_span(&self, start: usize, end: usize) -> (usize, usize) {
        let start_char = self.orig_char[start] as usize;
        let end_char = if end == 0 {
            0
        } else {
            self.orig_char[end - 1] as usize + 1
        };
        (start_char, end_char.max(start_char))
    }

    pub fn is_struck(&self, start: usize, end: usize) -> bool {
        self.struck.iter().any(|&(s, e)| s <= start && end <= e)
    }

    /// Index of the next token after `index` that is not a space (newlines count).
    pub fn next_solid(&self, index: usize) -> Option<usize> {
        (index + 1..self.tokens.len()).find(|&i| self.tokens[i].kind != Kind::Space)
    }

    pub fn prev_solid(&self, index: usize) -> Option<usize> {
        (0..index)
            .rev()
            .find(|&i| self.tokens[i].kind != Kind::Space)
    }

    /// True when tokens `a` and `b` (a before b) touch with nothing between them.
    pub fn adjacent(&self, a: usize, b: usize) -> bool {
        self.tokens[a].end == self.tokens[b].start
    }

    pub fn is(&self, index: usize, kind: Kind) -> bool {
        self.tokens.get(index).is_some_and(|t| t.kind == kind)
    }

    pub fn folded_is(&self, index: usize, words: &[&str]) -> bool {
        self.folded
            .get(index)
            .is_some_and(|w| words.contains(&w.as_str()))
    }

    /// The line (by token indices, newline excluded) that holds token `index`.
    pub fn line_of(&self, index: usize) -> (usize, usize) {
        let start = (0..index)
            .rev()
            .find(|&i| self.tokens[i].kind == Kind::Newline)
            .map_or(0, |i| i + 1);
        let end = (index..self.tokens.len())
            .find(|&i| self.tokens[i].kind == Kind::Newline)
            .unwrap_or(self.tokens.len());
        (start, end)
    }
}

fn normalise(caption: &str) -> (String, Vec<u32>, Vec<(usize, usize)>) {
    let mut norm = String::with_capacity(caption.len());
    let mut orig_char = Vec::with_capacity(caption.len() + 1);
    let mut struck: Vec<(usize, usize)> = Vec::new();
    let mut last_char_bytes: Option<(usize, usize)> = None;
    for (char_index, c) in caption.chars().enumerate() {
        if matches!(c, '\u{0335}' | '\u{0336}' | '\u{0338}') {
            if let Some((s, e)) = last_char_bytes {
                match struck.last_mut() {
                    Some(range) if range.1 == s => range.1 = e,
                    _ => struck.push((s, e)),
                }
            }
            continue;
        }
        let mapped = map_char(c);
        if mapped == '\0' {
            continue;
        }
        let start = norm.len();
        norm.push(mapped);
        for _ in start..norm.len() {
            orig_char.push(char_index as u32);
        }
        last_char_bytes = Some((start, norm.len()));
    }
    let end_char = caption.chars().count() as u32;
    orig_char.push(end_char);
    (norm, orig_char, struck)
}

/// Maps decorative Unicode to plain characters; `'\0'` drops the character.
fn map_char(c: char) -> char {
    let cp = c as u32;
    match cp {
        0x1D400..=0x1D6A3 => {
            let offset = (cp - 0x1D400) % 52;
            let base = if offset < 26 {
                b'A' as u32 + offset
            } else {
                b'a' as u32 + offset - 26
            };
            char::from_u32(base).unwrap_or(c)
        }
        0x1D7CE..=0x1D7FF => char::from_u32(b'0' as u32 + (cp - 0x1D7CE) % 10).unwrap_or(c),
        0xFF01..=0xFF5E => char::from_u32(cp - 0xFEE0).unwrap_or(c),
        0x00A0 | 0x2000..=0x200A | 0x202F | 0x205F | 0x3000 => ' ',
        0x200B..=0x200D | 0x2060 | 0xFEFF => '\0',
        0x2010..=0x2015 | 0x2212 => '-',
        0x2018 | 0x2019 | 0x02BC => '\'',
        0x201C | 0x201D => '"',
        0x00BD => '½',
        _ => c,
    }
}

fn is_currency_sign(c: char) -> bool {
    matches!(
        c,
        '$' | '€'
            | '£'
            | '¥'
            | '¢'
            | '₦'
            | '₹'
            | '₱'
            | '₵'
            | '₩'
            | '₺'
            | '₽'
            | '৳'
            | '₫'
            | '฿'
            | '₴'
            | '₭'
            | '₮'
            | '₲'
            | '₡'
            | '₪'
            | '₸'
            | '₼'
            | '₾'
    )
}

fn is_word_char(c: char) -> bool {
    c.is_alphabetic() || matches!(c, '\u{0300}'..='\u{036F}')
}

fn tokenise(text: &str) -> Vec<Token> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::with_capacity(text.len() / 3);
    let mut chars = text.char_indices().peekable();
    let char_at = |i: usize| text[i..].chars().next();
    while let Some((start, c)) = chars.next() {
        let mut end = start + c.len_utf8();
        let kind = if c == '\n' || c == '\r' {
            while let Some(&(i, '\n' | '\r')) = chars.peek() {
                end = i + 1;
                chars.next();
            }
            Kind::Newline
        } else if c.is_whitespace() {
            while let Some(&(i, n)) = chars.peek() {
                if n.is_whitespace() && n != '\n' && n != '\r' {
                    end = i + n.len_utf8();
                    chars.next();
                } else {
                    break;
                }
            }
            Kind::Space
        } else if c == '#' && char_at(end).is_some_and(|n| n.is_alphanumeric() || n == '_') {
            while let Some(&(i, n)) = chars.peek() {
                if n.is_alphanumeric() || n == '_' || matches!(n, '\u{0300}'..='\u{036F}') {
                    end = i + n.len_utf8();
                    chars.next();
                } else {
                    break;
                }
            }
            Kind::Hashtag
        } else if c == '@'
            && char_at(end).is_some_and(|n| n.is_alphabetic() || n == '_')
            && (start == 0
                || !text[..start]
                    .chars()
                    .next_back()
                    .is_some_and(|p| p.is_alphanumeric()))
        {
            while let Some(&(i, n)) = chars.peek() {
                let continues = n.is_alphanumeric()
                    || n == '_'
                    || (n == '.'
                        && char_at(i + 1).is_some_and(|a| a.is_alphanumeric() || a == '_'));
                if continues {
                    end = i + n.len_utf8();
                    chars.next();
                } else {
                    break;
                }
            }
            Kind::Mention
        } else if starts_url(&bytes[start..]) {
            while let Some(&(i, n)) = chars.peek() {
                if n.is_whitespace() {
                    break;
                }
                end = i + n.len_utf8();
                chars.next();
            }
            Kind::Url
        } else if c.is_ascii_digit() {
            loop {
                match chars.peek() {
                    Some(&(i, d)) if d.is_ascii_digit() => {
                        end = i + 1;
                        chars.next();
                    }
                    Some(&(i, '.' | ',' | '\''))
                        if bytes.get(i + 1).is_some_and(u8::is_ascii_digit) =>
                    {
                        end = i + 1;
                        chars.next();
                    }
                    _ => break,
                }
            }
            Kind::Number
        } else if is_word_char(c) {
            while let Some(&(i, n)) = chars.peek() {
                let apostrophe = n == '\'' && char_at(i + 1).is_some_and(char::is_alphabetic);
                if is_word_char(n) || apostrophe {
                    end = i + n.len_utf8();
                    chars.next();
                } else {
                    break;
                }
            }
            Kind::Word
        } else if is_currency_sign(c) {
            Kind::Symbol
        } else if c.is_ascii_punctuation() || c == '½' {
            Kind::Punct
        } else {
            // Keep emoji sequences (variation selectors, joiners, skin tones) in one token.
            while let Some(&(i, n)) = chars.peek() {
                if matches!(
                    n,
                    '\u{FE0E}' | '\u{FE0F}' | '\u{200D}' | '\u{1F3FB}'..='\u{1F3FF}' | '\u{20E3}'
                ) {
                    end = i + n.len_utf8();
                    chars.next();
                } else {
                    break;
                }
            }
            Kind::Emoji
        };
        tokens.push(Token { kind, start, end });
    }
    tokens
}

fn starts_url(bytes: &[u8]) -> bool {
    let lower = |n: usize| bytes.get(..n).map(|b| b.to_ascii_lowercase());
    lower(7).is_some_and(|b| b == b"http://")
        || lower(8).is_some_and(|b| b == b"https://")
        || lower(4).is_some_and(|b| b == b"www.")
        || lower(5).is_some_and(|b| b == b"wa.me")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &Text) -> Vec<(Kind, &str)> {
        (0..text.tokens.len())
            .map(|i| (text.tokens[i].kind, text.token_text(i)))
            .collect()
    }

    #[test]
    fn tokens_keep_numbers_hashtags_and_mentions_whole() {
        let text = Text::new("Price: ₦15,000 #ankara @shop.ng 2XL");
        let kinds = kinds(&text);
        assert!(kinds.contains(&(Kind::Number, "15,000")));
        assert!(kinds.contains(&(Kind::Symbol, "₦")));
        assert!(kinds.contains(&(Kind::Hashtag, "#ankara")));
        assert!(kinds.contains(&(Kind::Mention, "@shop.ng")));
        assert!(kinds.contains(&(Kind::Number, "2")));
        assert!(kinds.contains(&(Kind::Word, "XL")));
    }

    #[test]
    fn decorative_unicode_is_normalised_and_spans_map_back() {
        let caption = "🔥 𝐏𝐫𝐢𝐜𝐞 ５０００";
        let text = Text::new(caption);
        assert_eq!(text.norm, "🔥 Price 5000");
        let number = text
            .tokens
            .iter()
            .position(|t| t.kind == Kind::Number)
            .unwrap();
        let token = text.tokens[number];
        let (s, e) = text.original_span(token.start, token.end);
        let original: String = caption.chars().skip(s).take(e - s).collect();
        assert_eq!(original, "５０００");
    }

    #[test]
    fn strike_through_is_recorded() {
        let text = Text::new("was 5\u{336}0\u{336}0\u{336}0\u{336} now 3000");
        assert_eq!(text.norm, "was 5000 now 3000");
        assert!(text.is_struck(4, 8));
        assert!(!text.is_struck(13, 17));
    }

    #[test]
    fn email_at_sign_is_not_a_mention() {
        let text = Text::new("mail shop@gmail.com");
        assert!(!text.tokens.iter().any(|t| t.kind == Kind::Mention));
    }
}
