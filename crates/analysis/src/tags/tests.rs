use super::*;
use crate::caption::parse_caption;

fn tagger() -> Tagger {
    let taxonomy = Taxonomy::parse(SHOPIFY_TAXONOMY).expect("taxonomy");
    Tagger::new(taxonomy, None).expect("every lexicon path exists in the taxonomy")
}

fn tag(tagger: &Tagger, caption: &str) -> TagsResult {
    let parsed = parse_caption(caption, None);
    let text = product_text(caption);
    tagger.tag(
        &TagInput {
            text: &text,
            parsed: &parsed,
            objects: &[],
        },
        None,
    )
}

fn top(tagger: &Tagger, caption: &str) -> String {
    tag(tagger, caption)
        .categories
        .first()
        .map(|c| c.path.clone())
        .unwrap_or_default()
}

#[test]
fn written_product_nouns_decide_without_embeddings() {
    let tagger = tagger();
    let cases = [
        (
            "Classy red heels size 38-41 ₦18,000",
            "Apparel & Accessories > Shoes > Heels",
        ),
        (
            "AirPods Pro 2nd gen, sealed. Ksh 4,500",
            "Electronics > Audio > Audio Components > Headphones & Headsets",
        ),
        (
            "iPhone 13 Pro Max cases all colours",
            "Electronics > Communications > Telephony > Mobile & Smart Phone Accessories",
        ),
        (
            "iPhone 13 Pro Max 256GB UK used clean",
            "Electronics > Communications > Telephony > Mobile & Smart Phones",
        ),
        (
            "Ankara gown 💃🏾 sizes 8-16",
            "Apparel & Accessories > Clothing > Dresses",
        ),
        (
            "Zapatillas Air Force 1 blancas talla 40",
            "Apparel & Accessories > Shoes > Sneakers",
        ),
        (
            "Baju kurung moden pink saiz S-XL",
            "Apparel & Accessories > Clothing > Traditional & Ceremonial Clothing",
        ),
        (
            "Handmade soy candles, lavender scent",
            "Home & Garden > Decor > Home Fragrances > Candles",
        ),
    ];
    for (caption, expected) in cases {
        assert_eq!(top(&tagger, caption), expected, "{caption}");
    }
}

#[test]
fn fabric_words_yield_to_garments_but_stand_alone() {
    let tagger = tagger();
    assert_eq!(
        top(&tagger, "Kitenge skirt, new stock"),
        "Apparel & Accessories > Clothing > Skirts"
    );
    assert!(top(&tagger, "Ankara fabric 6 yards ₦9,500").ends_with("Textiles > Fabric"));
}

#[test]
fn hashtags_attributes_and_dedup() {
    let tagger = tagger();
    let result = tag(
        &tagger,
        "Genuine leather handbag for ladies, brand new. #fyp #viral #LeatherBag #handbag #handbags",
    );
    let tags: Vec<(&str, TagKind)> = result
        .tags
        .iter()
        .map(|t| (t.tag.as_str(), t.kind))
        .collect();
    assert!(tags.contains(&("leatherbag", TagKind::Hashtag)), "{tags:?}");
    assert!(
        !tags.iter().any(|(t, _)| *t == "fyp" || *t == "viral"),
        "generic hashtags dropped: {tags:?}"
    );
    assert_eq!(
        tags.iter().filter(|(t, _)| *t == "handbag").count(),
        1,
        "deduplicated: {tags:?}"
    );
    assert_eq!(result.attributes.material, ["leather"]);
    assert_eq!(result.attributes.audience, ["women"]);
    assert_eq!(result.attributes.condition, Some(Condition::New));
}

#[test]
fn product_text_drops_noise() {
    assert_eq!(
        product_text("Ankara gown 💃🏾 ₦15,000 DM 08031234567 @seller https://wa.me/234 #lagos"),
        "Ankara gown ₦15,000 DM lagos"
    );
}

#[test]
fn category_vectors_must_match_the_taxonomy() {
    let taxonomy = Taxonomy::parse(SHOPIFY_TAXONOMY).expect("taxonomy");
    let vectors = CategoryVectors {
        dimensions: 4,
        values: vec![0.0; 8],
    };
    assert!(matches!(
        Tagger::new(taxonomy, Some(vectors)),
        Err(TaggerError::VectorCount { .. })
    ));
}
