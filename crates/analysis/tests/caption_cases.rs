//! Table-driven caption tests: `fixtures/captions/labelled.jsonl`, one labelled caption a line.
//! `price`, `sizes` and `colors` are checked on every case (null / [] mean "none");
//! the other fields only where a case labels them.

use postlens_analysis::caption::{parse_caption, CaptionParse};
use serde_json::Value;

fn cases() -> Vec<Value> {
    read_cases("labelled.jsonl")
}

fn read_cases(file: &str) -> Vec<Value> {
    let path = format!(
        "{}/../../fixtures/captions/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).expect("labelled captions fixture");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("valid JSONL"))
        .collect()
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// A market set's cases, checked to hold at least `min_cases` captions from `min_markets`.
fn read_market_set(file: &str, min_cases: usize, min_markets: usize) -> Vec<Value> {
    let cases = read_cases(file);
    assert!(cases.len() >= min_cases, "{file}: {} captions", cases.len());
    let markets: std::collections::HashSet<&str> =
        cases.iter().filter_map(|c| c["market"].as_str()).collect();
    assert!(
        markets.len() >= min_markets,
        "{file}: {} markets",
        markets.len()
    );
    cases
}

/// What is wrong with the parse of a market case: `check`'s problems, with the title right
/// when the parsed title holds the labelled product phrase, whatever its case.
fn problems_with_title(case: &Value) -> Vec<String> {
    let caption = case["caption"].as_str().expect("caption");
    let parsed = parse_caption(caption, case["market"].as_str());
    let mut expect = case["expect"].clone();
    let want_title = expect["title"].as_str().unwrap_or_default().to_lowercase();
    expect.as_object_mut().map(|e| e.remove("title"));
    let mut problems = check(&parsed, &expect);
    let got_title = parsed.title.clone().unwrap_or_default();
    if !got_title.to_lowercase().contains(&want_title) {
        problems.push(format!("title: got {got_title:?}, want {want_title:?}"));
    }
    problems
}

fn check(parsed: &CaptionParse, expect: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let mut differ = |field: &str, got: String, want: String| {
        if got != want {
            problems.push(format!("{field}: got {got}, want {want}"));
        }
    };
    let price = parsed
        .price
        .as_ref()
        .map(|p| (p.amount, p.currency.clone()));
    let want_price = match &expect["price"] {
        Value::Null => None,
        v => Some((
            v[0].as_f64().unwrap_or(f64::NAN),
            v[1].as_str().map(str::to_owned),
        )),
    };
    differ("price", format!("{price:?}"), format!("{want_price:?}"));
    differ(
        "sizes",
        format!("{:?}", parsed.sizes),
        format!("{:?}", strings(&expect["sizes"])),
    );
    differ(
        "colors",
        format!("{:?}", parsed.colors),
        format!("{:?}", strings(&expect["colors"])),
    );
    if let Some(want) = expect.get("compare_at") {
        differ(
            "compare_at",
            format!("{:?}", parsed.compare_at_price.as_ref().map(|p| p.amount)),
            format!("{:?}", want.as_f64()),
        );
    }
    if let Some(want) = expect.get("price_on_request") {
        differ(
            "price_on_request",
            parsed.price_on_request.to_string(),
            want.to_string(),
        );
    }
    if let Some(want) = expect.get("size_system") {
        differ(
            "size_system",
            format!("{:?}", parsed.size_system),
            format!("{:?}", want.as_str()),
        );
    }
    if let Some(want) = expect.get("condition") {
        let got = parsed
            .condition
            .map(|c| serde_json::to_value(c).unwrap_or_default());
        differ("condition", format!("{got:?}"), format!("{:?}", Some(want)));
    }
    if let Some(want) = expect.get("language") {
        differ(
            "language",
            format!("{:?}", parsed.language),
            format!("{:?}", want.as_str()),
        );
    }
    if let Some(want) = expect.get("hashtags") {
        differ(
            "hashtags",
            format!("{:?}", parsed.hashtags),
            format!("{:?}", strings(want)),
        );
    }
    if let Some(want) = expect.get("mentions") {
        differ(
            "mentions",
            format!("{:?}", parsed.mentions),
            format!("{:?}", strings(want)),
        );
    }
    if let Some(want) = expect.get("contacts") {
        let got: Vec<String> = parsed.contacts.iter().map(|c| c.value.clone()).collect();
        differ(
            "contacts",
            format!("{got:?}"),
            format!("{:?}", strings(want)),
        );
    }
    if let Some(want) = expect.get("offers") {
        let got: Vec<(u32, Option<f64>)> = parsed
            .offers
            .iter()
            .map(|o| (o.quantity, o.amount))
            .collect();
        let want: Vec<(u32, Option<f64>)> = want
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|o| (o[0].as_u64().unwrap_or(0) as u32, o[1].as_f64()))
                    .collect()
            })
            .unwrap_or_default();
        differ("offers", format!("{got:?}"), format!("{want:?}"));
    }
    if let Some(want) = expect.get("title").and_then(Value::as_str) {
        let got = parsed.title.clone().unwrap_or_default();
        if !got.contains(want) {
            problems.push(format!("title: got {got:?}, want it to contain {want:?}"));
        }
    }
    problems
}

#[test]
fn labelled_captions_parse_as_labelled() {
    let cases = cases();
    assert!(
        cases.len() >= 80,
        "the table needs at least 80 captions, has {}",
        cases.len()
    );
    let mut failures = Vec::new();
    for case in &cases {
        let caption = case["caption"].as_str().expect("caption");
        assert!(
            case["expect"].get("price").is_some(),
            "every case labels price: {caption}"
        );
        let parsed = parse_caption(caption, case["market"].as_str());
        let problems = check(&parsed, &case["expect"]);
        if !problems.is_empty() {
            failures.push(format!("{caption:?}\n    {}", problems.join("\n    ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} captions differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Captions written after the parser was finished and never tuned on
/// (fixtures/captions/heldout.jsonl). The parser is not expected to get all of them; the
/// test guards the measured accuracy (README) against regressions and prints the misses.
#[test]
fn held_out_captions_are_mostly_right() {
    let cases = read_cases("heldout.jsonl");
    let mut fully_right = 0;
    let mut price_right = 0;
    let mut misses = Vec::new();
    for case in &cases {
        let caption = case["caption"].as_str().expect("caption");
        let parsed = parse_caption(caption, case["market"].as_str());
        let problems = check(&parsed, &case["expect"]);
        if !problems.iter().any(|p| p.starts_with("price:")) {
            price_right += 1;
        }
        if problems.is_empty() {
            fully_right += 1;
        } else {
            misses.push(format!("{caption:?}\n    {}", problems.join("\n    ")));
        }
    }
    let share = |n: usize| n as f64 / cases.len() as f64;
    eprintln!(
        "held-out: {fully_right}/{} fully right, price right on {price_right}\n{}",
        cases.len(),
        misses.join("\n")
    );
    assert!(
        share(fully_right) >= HELD_OUT_FULLY_RIGHT,
        "{}",
        misses.join("\n")
    );
    assert!(
        share(price_right) >= HELD_OUT_PRICE_RIGHT,
        "{}",
        misses.join("\n")
    );
}

/// Measured on 2026-11-22 (see README); a drop below is a regression.
const HELD_OUT_FULLY_RIGHT: f64 = 0.875;
const HELD_OUT_PRICE_RIGHT: f64 = 0.95;

#[test]
fn spans_point_at_the_text_as_received() {
    for case in cases() {
        let caption = case["caption"].as_str().expect("caption");
        let parsed = parse_caption(caption, case["market"].as_str());
        let chars: Vec<char> = caption.chars().collect();
        let prices = parsed.price.iter().chain(parsed.compare_at_price.iter());
        for price in prices {
            let slice: String = chars[price.span.start..price.span.end].iter().collect();
            assert_eq!(slice, price.raw, "{caption}");
            assert!(
                slice.chars().any(|c| c.is_numeric()),
                "{caption}: span {slice:?} holds no digit"
            );
        }
        for contact in &parsed.contacts {
            let slice: String = chars[contact.span.start..contact.span.end].iter().collect();
            assert_eq!(slice, contact.raw, "{caption}");
        }
    }
}

#[test]
fn decorated_caption_spans_cover_the_original_characters() {
    let caption = "🔥 𝐏𝐫𝐢𝐜𝐞 ₦𝟏𝟐,𝟎𝟎𝟎";
    let price = parse_caption(caption, Some("NG")).price.expect("price");
    let slice: String = caption
        .chars()
        .skip(price.span.start)
        .take(price.span.end - price.span.start)
        .collect();
    assert_eq!(slice, "₦𝟏𝟐,𝟎𝟎𝟎");
    assert_eq!(price.amount, 12000.0);
}

#[test]
fn empty_and_odd_captions_do_not_panic() {
    for caption in [
        "",
        " ",
        "\n\n",
        "🔥🔥🔥",
        "#",
        "@",
        "₦",
        "1",
        "0000000000000000000000000",
        "size",
        "S-",
        "- 5k",
        "a\u{336}",
    ] {
        let parsed = parse_caption(caption, None);
        assert!(parsed.price.is_none() || parsed.price.as_ref().is_some_and(|p| p.amount > 0.0));
    }
}

/// Captions from 20 markets in the patterns of issue 18 (hype openers, prices with spaces
/// and installments, local money words, several numbers, size steps, colours in other
/// languages and as emoji), written and labelled before the parser was changed for them
/// (fixtures/captions/markets.jsonl). Titles are checked case-insensitively: the title must
/// contain the labelled product phrase. Each field's share is printed and guarded.
#[test]
fn market_captions_meet_the_issue_18_bar() {
    let cases = read_market_set("markets.jsonl", 80, 15);
    let (mut title, mut price, mut fully) = (0, 0, 0);
    let mut misses = Vec::new();
    for case in &cases {
        let caption = case["caption"].as_str().expect("caption");
        let problems = problems_with_title(case);
        if !problems.iter().any(|p| p.starts_with("title:")) {
            title += 1;
        }
        if !problems.iter().any(|p| p.starts_with("price:")) {
            price += 1;
        }
        if problems.is_empty() {
            fully += 1;
        } else {
            misses.push(format!(
                "[{}] {caption:?}\n    {}",
                case["pattern"].as_str().unwrap_or(""),
                problems.join("\n    ")
            ));
        }
    }
    let share = |n: usize| n as f64 / cases.len() as f64;
    eprintln!(
        "markets: titles {title}/{n}, prices {price}/{n}, fully right {fully}/{n}\n{}",
        misses.join("\n"),
        n = cases.len()
    );
    assert!(share(title) >= MARKETS_TITLE_RIGHT, "titles {title}");
    assert!(share(price) >= MARKETS_PRICE_RIGHT, "prices {price}");
    assert!(share(fully) >= MARKETS_FULLY_RIGHT, "fully right {fully}");
}

/// The issue-18 bar (95 %); measured 86/86 titles, 85/86 prices, 85/86 fully right (README).
const MARKETS_TITLE_RIGHT: f64 = 0.95;
const MARKETS_PRICE_RIGHT: f64 = 0.95;
const MARKETS_FULLY_RIGHT: f64 = 0.95;

/// One row per price pattern of issue 18, on captions outside the held-out market set:
/// (caption, market, price, currency, compare-at).
#[test]
fn prices_as_sellers_write_them() {
    let table: &[(&str, &str, f64, &str, Option<f64>)] = &[
        ("Puffer jacket R 1 899,99", "ZA", 1899.99, "ZAR", None),
        ("Mesa de centro 3 250 €", "FR", 3250.0, "EUR", None),
        ("Fone bluetooth 5x de R$ 20,00", "BR", 100.0, "BRL", None),
        ("Relógio 3x R$ 50", "BR", 150.0, "BRL", None),
        ("HP laptop 4,5jt", "ID", 4_500_000.0, "IDR", None),
        ("Kaos kaki 15rb", "ID", 15_000.0, "IDR", None),
        ("Tapete de yoga 300 pesos", "MX", 300.0, "MXN", None),
        ("Tsinelas 150 pesos", "PH", 150.0, "PHP", None),
        ("Lip gloss 1 for 20, 4 for 70", "KE", 20.0, "KES", None),
        ("Blazer was £45 now £30", "GB", 30.0, "GBP", Some(45.0)),
        (
            "Camisa antes $900 ahora $600",
            "MX",
            600.0,
            "MXN",
            Some(900.0),
        ),
        ("Bolsa de 99,90 por 79,90", "BR", 79.90, "BRL", None),
        (
            "Headwrap ₦4,000 + ₦1,000 delivery",
            "NG",
            4000.0,
            "NGN",
            None,
        ),
        ("Leather belt LE 200", "EG", 200.0, "EGP", None),
    ];
    let mut wrong = Vec::new();
    for &(caption, market, amount, currency, compare_at) in table {
        let parsed = parse_caption(caption, Some(market));
        let price = parsed
            .price
            .as_ref()
            .map(|p| (p.amount, p.currency.clone()));
        let compare = parsed.compare_at_price.as_ref().map(|p| p.amount);
        let compare_ok = compare_at.is_none_or(|want| compare == Some(want));
        if price != Some((amount, Some(currency.to_owned()))) || !compare_ok {
            wrong.push(format!(
                "{caption}: price {price:?}, compare-at {compare:?}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Sizes, colours and titles of issue 18, one row each, outside the market set.
#[test]
fn sizes_colours_and_titles_as_sellers_write_them() {
    let sizes: &[(&str, &str, &[&str])] = &[
        ("Wrap dress UK 8 to 12 £22", "GB", &["8", "10", "12"]),
        (
            "Botas tallas de la 23 a la 25 $600",
            "MX",
            &["23", "24", "25"],
        ),
        ("Chaussures pointure 41 60€", "FR", &["41"]),
        ("Pyjamas age 3-5 £9", "GB", &["3-5Y"]),
        ("Duster freesize lang ₱180", "PH", &["ONE SIZE"]),
    ];
    let colours: &[(&str, &str, &[&str])] = &[
        ("Caps 🖤🤍💙 ₦3,000", "NG", &["black", "white", "blue"]),
        ("Zara top 🖤 like new £8", "GB", &[]),
        ("Kurta neela aur peela ₹550", "IN", &["blue", "yellow"]),
        ("Blusa itim ₱199", "PH", &["black"]),
        ("فستان أحمر 200 ريال", "SA", &["red"]),
        (
            "Tshirt white/grey/black R150",
            "ZA",
            &["white", "grey", "black"],
        ),
    ];
    let titles: &[(&str, &str, &str)] = &[
        (
            "Mega deal!! 🔥 Bamboo cutting board $18",
            "US",
            "bamboo cutting board",
        ),
        (
            "Oferta!! Mochila infantil R$ 59,90",
            "BR",
            "mochila infantil",
        ),
        (
            "Alhamdulillah restock 🙏 Tudung bawal RM 25",
            "MY",
            "tudung bawal",
        ),
    ];
    let mut wrong = Vec::new();
    for &(caption, market, want) in sizes {
        let got = parse_caption(caption, Some(market)).sizes;
        if got != want {
            wrong.push(format!("{caption}: sizes {got:?}"));
        }
    }
    for &(caption, market, want) in colours {
        let got = parse_caption(caption, Some(market)).colors;
        if got != want {
            wrong.push(format!("{caption}: colours {got:?}"));
        }
    }
    for &(caption, market, want) in titles {
        let got = parse_caption(caption, Some(market))
            .title
            .unwrap_or_default();
        if !got.to_lowercase().contains(want) {
            wrong.push(format!("{caption}: title {got:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Issue 29's set: 120 captions from 30 markets with real numbering plans, written and
/// labelled before the parser was changed for them (fixtures/captions/contacts-markets.jsonl):
/// local, international and WhatsApp-link phones, next to order numbers, bank accounts,
/// IBANs, card numbers, payment ids and tracking codes that must not be reported; prices by
/// the market's currency. Each field's share is printed; the floors are the shares measured
/// when the set was written (README), so a change may only raise them.
#[test]
fn contacts_and_markets_round_two() {
    let cases = read_market_set("contacts-markets.jsonl", 100, 20);
    let fields = ["title", "price", "sizes", "colors", "contacts"];
    let mut right = [0usize; 5];
    let mut fully = 0;
    let mut misses = Vec::new();
    for case in &cases {
        let caption = case["caption"].as_str().expect("caption");
        let problems = problems_with_title(case);
        for (field, count) in fields.iter().zip(right.iter_mut()) {
            if !problems.iter().any(|p| p.starts_with(&format!("{field}:"))) {
                *count += 1;
            }
        }
        if problems.is_empty() {
            fully += 1;
        } else {
            misses.push(format!(
                "[{} {}] {caption:?}\n    {}",
                case["market"].as_str().unwrap_or(""),
                case["pattern"].as_str().unwrap_or(""),
                problems.join("\n    ")
            ));
        }
    }
    let n = cases.len();
    let shares: Vec<String> = fields
        .iter()
        .zip(right)
        .map(|(field, count)| format!("{field} {count}/{n}"))
        .collect();
    eprintln!(
        "contacts-markets: {}, fully right {fully}/{n}\n{}",
        shares.join(", "),
        misses.join("\n")
    );
    for ((field, count), floor) in fields.iter().zip(right).zip(ROUND_TWO_FLOORS) {
        assert!(count >= floor, "{field}: {count}/{n}, floor {floor}");
    }
}

/// Right answers per field on contacts-markets.jsonl (title, price, sizes, colours,
/// contacts), raised as changes land. Before any change: 109, 113, 112, 111, 77.
const ROUND_TWO_FLOORS: [usize; 5] = [117, 119, 119, 120, 119];

/// Order, tracking and account numbers are claimed: a sentence that is only about one is not
/// the title, and a size list stops at a phone.
#[test]
fn identifiers_do_not_become_titles_or_sizes() {
    for (caption, market, title) in [
        (
            "Pedido nº 100234567 enviado! Biquíni preto R$ 79",
            "BR",
            "Biquíni preto",
        ),
        (
            "Заказ № 12345678 отправлен. Платье миди 2 490 ₽",
            "RU",
            "Платье миди",
        ),
        (
            "Black agbada set ₦45,000, call +234 803 12",
            "NG",
            "Black agbada set",
        ),
    ] {
        let parsed = parse_caption(caption, Some(market));
        let got = parsed.title.unwrap_or_default();
        assert!(got.contains(title), "{caption}: {got:?}");
        assert!(parsed.contacts.is_empty(), "{caption}");
    }
    let parsed = parse_caption("Doc Martens boots £60 UK 7, +44 7400 123456", Some("GB"));
    assert_eq!(parsed.sizes, ["7"]);
    assert_eq!(parsed.contacts[0].value, "+447400123456");
    let parsed = parse_caption("Kilim yastık kılıfı 350 ₺ kırmızı", Some("TR"));
    assert_eq!(parsed.colors, ["red"], "Turkish dotless i folds to i");
}
