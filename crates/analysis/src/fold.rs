//! Case and accent folding shared by the caption parser, the tagger and the product
//! vocabulary: their word lists are written folded, so a caption is folded the same way
//! before it is compared with any of them.

/// Lower-case and strip Latin accents, so "Négro", "NEGRO" and "negro" compare equal.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        for l in c.to_lowercase() {
            out.push(match l {
                'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => 'a',
                'ç' => 'c',
                'è' | 'é' | 'ê' | 'ë' => 'e',
                'ì' | 'í' | 'î' | 'ï' => 'i',
                'ñ' => 'n',
                'ò' | 'ó' | 'ô' | 'õ' | 'ö' => 'o',
                'ù' | 'ú' | 'û' | 'ü' => 'u',
                // Turkish letters, as the word lists spell them ("kirmizi", "siparis").
                'ı' => 'i',
                'ş' => 's',
                'ğ' => 'g',
                'ё' => 'е',
                '\u{0300}'..='\u{036F}' => continue,
                other => other,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::fold;

    #[test]
    fn fold_strips_accents() {
        assert_eq!(fold("Négro"), "negro");
        assert_eq!(fold("DORADÉ"), "dorade");
    }
}
