//! Captions that once crashed the parser (issue 13), kept as regression cases. Each must parse
//! without a panic; where the reading is clear the result is checked too.

use postlens_analysis::caption::parse_caption;

#[test]
fn descending_letter_ranges_are_read_in_the_direction_written() {
    let parsed = parse_caption("Dress XL-S available now 5000", None);
    assert_eq!(parsed.sizes, vec!["XL", "L", "M", "S"]);
    // After "sizes" the phrase reader takes over; it does not expand letter ranges (yet),
    // but it must not panic either, and what it reads must be a letter size.
    let parsed = parse_caption("Ladies tops sizes XXL-M 45k", Some("NG"));
    assert_eq!(parsed.sizes.first().map(String::as_str), Some("2XL"));
    let parsed = parse_caption("Dress S-XL available now", None);
    assert_eq!(parsed.sizes, vec!["S", "M", "L", "XL"]);
}

#[test]
fn the_hostile_caption_corpus_parses() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/hostile/captions/captions.jsonl"
    );
    let text = std::fs::read_to_string(path).expect("hostile caption corpus");
    let mut count = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let case: serde_json::Value = serde_json::from_str(line).expect("valid JSONL");
        let caption = case["caption"].as_str().expect("caption");
        let parsed = parse_caption(caption, case["market"].as_str());
        // Spans are code points into the caption: they must lie inside it.
        let chars = caption.chars().count();
        if let Some(price) = &parsed.price {
            assert!(
                price.span.start <= price.span.end && price.span.end <= chars,
                "{caption:?}"
            );
        }
        count += 1;
    }
    assert!(count >= 10, "the corpus has {count} captions");
}

#[test]
fn runs_of_hundreds_of_digits_are_not_infinite_prices() {
    // Found by the caption fuzz target: "+234 " then 300 eights parsed to f64::INFINITY.
    let caption = format!("+234 88888888888889?{}", "8".repeat(300));
    let parsed = parse_caption(&caption, Some("NG"));
    assert!(parsed.price.as_ref().is_none_or(|p| p.amount.is_finite()));
    let parsed = parse_caption(&format!("price ₦{}", "9".repeat(400)), Some("NG"));
    assert!(parsed.price.is_none(), "{:?}", parsed.price);
    for offer in &parsed.offers {
        assert!(offer.amount.is_none_or(f64::is_finite));
    }
}
