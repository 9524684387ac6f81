//! Inputs of a given size for the growth benchmarks, shared by `postlens-analysis`'s
//! model-free `growth` bench and `postlens`'s `growth` bench (models and media), so both
//! curves are measured on the same text.

/// The labelled captions, concatenated until `words` long (real seller text, not filler).
pub fn caption_of(words: usize) -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/captions/labelled.jsonl"
    );
    let captions: Vec<String> = std::fs::read_to_string(path)
        .expect("labelled captions")
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["caption"].as_str().map(str::to_owned))
        .collect();
    let mut text = String::new();
    for caption in captions.iter().cycle() {
        if text.split_whitespace().count() >= words {
            break;
        }
        text.push_str(caption);
        text.push('\n');
    }
    text.split_whitespace()
        .take(words)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Mixed human and boilerplate sentences, `words` long.
pub fn document_of(words: usize) -> String {
    let sentences = [
        "The council met on Tuesday to discuss the closure of Elm Street, which has carried buses since 1962. ",
        "In today's rapidly evolving landscape, it is important to note that innovation plays a crucial role. ",
        "Maria Lopez, who runs the bakery on the corner, said deliveries start at 5:30 and the new rules would cost her two hours a week. ",
        "Furthermore, studies show that leveraging cutting-edge technology is truly essential for sustainable growth. ",
    ];
    let mut text = String::new();
    let mut i = 0;
    while text.split_whitespace().count() < words {
        text.push_str(sentences[i % sentences.len()]);
        i += 1;
    }
    text
}
