use super::*;

fn language(caption: &str, market: Option<&str>) -> Option<Language> {
    detect_language(caption, market).language
}

#[test]
fn a_script_one_language_owns_decides_alone() {
    assert_eq!(language("신상 원피스 29,000원", None), Some(Language::Ko));
    assert_eq!(language("เสื้อยืดใหม่ ราคา 199 บาท", None), Some(Language::Th));
    // Kana with Han is Japanese; Han alone is Chinese.
    assert_eq!(language("新作ワンピース 3,980円", None), Some(Language::Ja));
    assert_eq!(language("新款连衣裙 只要 199 元", None), Some(Language::Zh));
}

#[test]
fn letters_tell_languages_that_share_a_script_apart() {
    assert_eq!(
        language("Нова сукня, ціна 900 грн", None),
        Some(Language::Uk)
    );
    assert_eq!(
        language("Новое платье, цена 2500", None),
        Some(Language::Ru)
    );
    assert_eq!(language("عباية سوداء 250 ريال", None), Some(Language::Ar));
    assert_eq!(language("نیا سوٹ صرف 2500 روپے", None), Some(Language::Ur));
    // Persian without پ چ ژ گ is told by its yeh and keheh (ی ک, not Arabic's ي ك); it
    // was read as Arabic at confidence 1.0 (issue 29).
    assert_eq!(
        language("\u{644}\u{628}\u{627}\u{633} \u{632}\u{6CC}\u{628}\u{627} \u{6A9}\u{645} \u{62A}\u{648}\u{645}\u{627}\u{646}", None),
        Some(Language::Fa)
    );
    assert_eq!(
        language("\u{644}\u{628}\u{627}\u{633} \u{62C}\u{645}\u{64A}\u{644} \u{62C}\u{62F}\u{64B}\u{627}", None),
        Some(Language::Ar)
    );
}

#[test]
fn a_few_foreign_letters_do_not_outvote_the_words() {
    let guess = detect_language("New arrivals from the 한 collection, only $20 each", None);
    assert_eq!(guess.language, Some(Language::En));
    assert_eq!(guess.script, Some(Script::Latin));
}

#[test]
fn captions_without_words_are_not_guessed() {
    assert_eq!(
        detect_language("🔥🔥 ₦7,500 42", None).undetermined,
        Some(Undetermined::NoLetters)
    );
    let brand_only = detect_language("iPhone 13 128GB", Some("NG"));
    assert_eq!(brand_only.language, None);
    assert_eq!(brand_only.undetermined, Some(Undetermined::NoMarkerWords));
    assert_eq!(brand_only.fits_market, None);
}

#[test]
fn the_market_breaks_a_tie_but_never_outvotes_the_caption() {
    // "warna hitam putih" is both Malay and Indonesian.
    let caption = "Satin warna hitam putih";
    assert_eq!(language(caption, Some("MY")), Some(Language::Ms));
    assert_eq!(language(caption, Some("ID")), Some(Language::Id));
    assert_eq!(
        detect_language(caption, None).undetermined,
        Some(Undetermined::Tied)
    );
    // A Spanish caption in a Brazilian post stays Spanish, and says it does not fit.
    let guess = detect_language("Vestido rojo talla M, envíos a todo el país", Some("BR"));
    assert_eq!(guess.language, Some(Language::Es));
    assert_eq!(guess.fits_market, Some(false));
}

#[test]
fn hashtags_mentions_and_links_are_not_words() {
    let guess = detect_language(
        "#vendido #tallas @la_tienda https://shop.example/la-talla Knit beanie $12 only",
        None,
    );
    assert_eq!(guess.language, Some(Language::En));
    assert_eq!(guess.words_read, 3);
    assert_eq!(guess.evidence, vec!["only"]);
}

#[test]
fn a_huge_caption_is_read_on_its_opening() {
    let caption = "talla precio ".repeat(100_000);
    let guess = detect_language(&caption, None);
    assert_eq!(guess.language, Some(Language::Es));
    assert_eq!(guess.words_read, MAX_WORDS_READ);
    assert!(guess.evidence.len() <= EVIDENCE_WORDS);
    assert!(guess.confidence > 0.9);
}

#[test]
fn one_marker_word_is_little_confidence() {
    let one = detect_language("Sac 45€", None);
    let many = detect_language("Sac à main en cuir noir, livraison gratuite", None);
    assert_eq!(
        (one.language, many.language),
        (Some(Language::Fr), Some(Language::Fr))
    );
    assert!(
        one.confidence <= 0.5 && many.confidence > 0.8,
        "{one:?} {many:?}"
    );
}
