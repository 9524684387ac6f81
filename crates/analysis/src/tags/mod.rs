//! Tags for a post: ranked Shopify taxonomy categories, keyword / hashtag / attribute /
//! object tags, and attributes (colour, material, audience, condition).
//!
//! The model work (MiniLM) happens outside: callers pass an [`EncodedText`] of the caption
//! and, for category scoring, the precomputed category embeddings. Everything here is
//! plain arithmetic and rules, so it is fast and testable without model files.

mod keywords;
pub(crate) mod lexicon;
pub mod taxonomy;

use crate::phrase_match::longest_matches;
use crate::vector::dot;
use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::caption::{CaptionParse, Condition};
use crate::fold::fold;
pub use crate::products::SHOPIFY_TAXONOMY;
pub use taxonomy::{Category, Taxonomy, TaxonomyError};

/// A caption encoded by a sentence model: the pooled, unit-length embedding and each
/// token's contextual vector with its byte range in the encoded text.
#[derive(Debug, Clone, Default)]
pub struct EncodedText {
    /// Pooled, unit-length sentence embedding.
    pub sentence: Vec<f32>,
    /// One contextual vector per token.
    pub tokens: Vec<TokenVector>,
}

/// One token's contextual vector.
#[derive(Debug, Clone)]
pub struct TokenVector {
    /// First byte of the token in the encoded text.
    pub start: usize,
    /// One past its last byte.
    pub end: usize,
    /// The vector.
    pub vector: Vec<f32>,
}

/// A taxonomy category the post belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoryMatch {
    /// Shopify taxonomy gid.
    pub id: String,
    /// `A > B > C`.
    pub path: String,
    /// Similarity plus lexical evidence; higher is surer.
    pub score: f32,
    /// Product words from the caption that point at this category, if any.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub evidence: Vec<String>,
}

/// What a tag came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TagKind {
    /// A keyphrase of the caption.
    Keyword,
    /// A hashtag.
    Hashtag,
    /// An attribute value (colour, material, audience, condition).
    Attribute,
    /// An object the detector found in the media.
    Object,
}

/// One tag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tag {
    /// The tag, lower case.
    pub tag: String,
    /// Its source.
    pub kind: TagKind,
    /// 0 to 1; higher is surer.
    pub score: f32,
}

/// Product attributes, as Shopify names them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Attributes {
    /// English base colour names.
    pub color: Vec<String>,
    /// Materials (`leather`, `cotton`).
    pub material: Vec<String>,
    /// Who it is for (`women`, `men`, `kids`, `baby`, `unisex`).
    pub audience: Vec<String>,
    /// New, used or refurbished.
    pub condition: Option<Condition>,
}

/// The `tags-generated` result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TagsResult {
    /// Up to [`TOP_CATEGORIES`], best first.
    pub categories: Vec<CategoryMatch>,
    /// Up to [`MAX_TAGS`], best first.
    pub tags: Vec<Tag>,
    /// Attributes found.
    pub attributes: Attributes,
}

/// What the tagger reads from a post.
pub struct TagInput<'a> {
    /// The text that was encoded (see [`product_text`]).
    pub text: &'a str,
    /// The caption parser's result for the same caption.
    pub parsed: &'a CaptionParse,
    /// Object labels from a detector, when a thumbnail result is available.
    pub objects: &'a [String],
}

/// Category embeddings, row-major `len × dimensions`, in taxonomy order, unit length.
pub struct CategoryVectors {
    /// Vector length (384 for MiniLM).
    pub dimensions: usize,
    /// `len × dimensions` floats.
    pub values: Vec<f32>,
}

/// Why a tagger could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TaggerError {
    /// A lexicon entry names a category the taxonomy lacks.
    #[error("lexicon entry {term:?} points at {path:?}, which the taxonomy does not have")]
    UnknownPath {
        /// The lexicon's term.
        term: String,
        /// The category path it names.
        path: String,
    },
    /// The category embeddings are for a different taxonomy.
    #[error("category vectors cover {vectors} categories; the taxonomy has {categories}")]
    VectorCount {
        /// Vectors in the file.
        vectors: usize,
        /// Categories in the taxonomy.
        categories: usize,
    },
}

/// How many categories and tags a result lists.
pub const TOP_CATEGORIES: usize = 3;
/// Most tags in a result.
pub const MAX_TAGS: usize = 12;

/// Weight of lexical evidence added to the embedding similarity.
const LEXICAL_BOOST: f32 = 0.5;

struct LexicalEntry {
    category: usize,
    weight: f32,
}

/// Tags posts: the taxonomy, its embeddings (optional) and the lexicon that maps product words to categories. Built once per process.
pub struct Tagger {
    taxonomy: Taxonomy,
    vectors: Option<CategoryVectors>,
    /// Folded phrase → lexicon entry.
    terms: HashMap<String, LexicalEntry>,
    longest_term: usize,
    phones: usize,
    phone_accessories: usize,
}

impl Tagger {
    /// `vectors: None` ranks categories from lexical evidence only (the baseline
    /// comparison and model-free tests).
    pub fn new(taxonomy: Taxonomy, vectors: Option<CategoryVectors>) -> Result<Self, TaggerError> {
        if let Some(v) = &vectors {
            let count = v.values.len() / v.dimensions.max(1);
            if count != taxonomy.len() {
                return Err(TaggerError::VectorCount {
                    vectors: count,
                    categories: taxonomy.len(),
                });
            }
        }
        let mut terms = HashMap::new();
        let mut longest_term = 1;
        for (variants, path, weight) in crate::products::PRODUCT_TERMS {
            let category = taxonomy
                .find_path(path)
                .ok_or_else(|| TaggerError::UnknownPath {
                    term: variants.split('|').next().unwrap_or_default().to_owned(),
                    path: (*path).to_owned(),
                })?;
            for term in variants.split('|') {
                let folded = words(&fold(term)).join(" ");
                longest_term = longest_term.max(folded.split(' ').count());
                terms.entry(folded).or_insert(LexicalEntry {
                    category,
                    weight: *weight,
                });
            }
        }
        let find = |path: &str| {
            taxonomy
                .find_path(path)
                .ok_or_else(|| TaggerError::UnknownPath {
                    term: String::new(),
                    path: path.to_owned(),
                })
        };
        let phones = find("Electronics > Communications > Telephony > Mobile & Smart Phones")?;
        let phone_accessories =
            find("Electronics > Communications > Telephony > Mobile & Smart Phone Accessories")?;
        Ok(Self {
            taxonomy,
            vectors,
            terms,
            longest_term,
            phones,
            phone_accessories,
        })
    }

    /// The taxonomy it tags with.
    pub fn taxonomy(&self) -> &Taxonomy {
        &self.taxonomy
    }

    /// Tags one post; `encoded` is its MiniLM encoding (without one, categories come from lexical evidence alone).
    pub fn tag(&self, input: &TagInput<'_>, encoded: Option<&EncodedText>) -> TagsResult {
        let similarity = encoded.and_then(|e| {
            self.category_similarities(&[e.sentence.as_slice()])
                .into_iter()
                .next()
        });
        self.tag_with_similarity(input, encoded, similarity.as_deref())
    }

    /// [`Tagger::tag`] with the caption's category similarities already computed (by
    /// [`Tagger::category_similarities`], for a whole batch at once).
    pub fn tag_with_similarity(
        &self,
        input: &TagInput<'_>,
        encoded: Option<&EncodedText>,
        category_similarity: Option<&[f32]>,
    ) -> TagsResult {
        let folded_words = words(&fold(input.text));
        let hits = self.lexical_hits(&folded_words);
        let categories = self.rank_categories(&hits, category_similarity);
        let attributes = attributes(input.parsed, &folded_words);
        let tags = self.tags(input, encoded, &attributes);
        TagsResult {
            categories,
            tags,
            attributes,
        }
    }

    /// Embedding similarity only: the baseline the evaluation compares against.
    pub fn rank_by_embedding(&self, sentence: &[f32]) -> Vec<CategoryMatch> {
        let similarity = self.category_similarities(&[sentence]).into_iter().next();
        self.rank_categories(&[], similarity.as_deref())
    }

    /// Each sentence's cosine with every category, in taxonomy order (empty without
    /// category vectors). A batch sweeps the 15 MB of rows once, each row serving all its
    /// captions while it is in cache, instead of once per caption.
    pub fn category_similarities(&self, sentences: &[&[f32]]) -> Vec<Vec<f32>> {
        let Some(vectors) = &self.vectors else {
            return vec![Vec::new(); sentences.len()];
        };
        let mut similarities = vec![vec![0.0f32; self.taxonomy.len()]; sentences.len()];
        let rows = vectors.values.chunks_exact(vectors.dimensions.max(1));
        for (index, row) in rows.enumerate() {
            for (scores, sentence) in similarities.iter_mut().zip(sentences) {
                scores[index] = dot(row, sentence);
            }
        }
        similarities
    }

    /// Product phrases found in the caption, longest match first at each position.
    fn lexical_hits(&self, words: &[String]) -> Vec<(usize, f32, String)> {
        let mut hits: Vec<(usize, f32, String)> =
            longest_matches(words.len(), self.longest_term, |start, n| {
                let phrase = words[start..start + n].join(" ");
                let entry = self.terms.get(&phrase).or_else(|| {
                    // Plurals and possessives of the last word: "gowns", "kurtis", "bag's".
                    ["s", "es", "'s"].iter().find_map(|suffix| {
                        phrase
                            .strip_suffix(suffix)
                            .filter(|stem| stem.len() > 2)
                            .and_then(|stem| self.terms.get(stem))
                    })
                })?;
                Some((entry.category, entry.weight, phrase))
            })
            .into_iter()
            .map(|(_, _, hit)| hit)
            .collect();
        // A phone named next to "case", "cover" or "protector" is the accessory's subject.
        let accessory_word = words.iter().any(|w| {
            matches!(
                w.as_str(),
                "case" | "cases" | "cover" | "covers" | "protector" | "protectors"
            )
        });
        if accessory_word && hits.iter().any(|(c, _, _)| *c == self.phones) {
            hits.push((self.phone_accessories, 1.3, "case".to_owned()));
        }
        hits
    }

    fn rank_categories(
        &self,
        hits: &[(usize, f32, String)],
        category_similarity: Option<&[f32]>,
    ) -> Vec<CategoryMatch> {
        let n = self.taxonomy.len();
        let mut scores = vec![0.0f32; n];
        // Empty when the tagger has no category vectors: lexical evidence alone.
        if let Some(similarity) = category_similarity.filter(|s| s.len() == n) {
            scores.copy_from_slice(similarity);
        }
        // Lexical evidence lifts its category and everything under it, so the embedding
        // chooses within the subtree ("running shoes" → Shoes > Athletic Shoes > …). The
        // strongest hit decides; weaker hits (a fabric next to a garment) add less.
        let mut evidence: HashMap<usize, Vec<String>> = HashMap::new();
        let strongest = hits.iter().map(|(_, w, _)| *w).fold(0.0f32, f32::max);
        for (order, (category, weight, phrase)) in hits.iter().enumerate() {
            evidence.entry(*category).or_default().push(phrase.clone());
            // Sellers name the product first ("Saree silk with blouse piece"): among equal
            // weights the earlier mention wins; weaker kinds of hit count half.
            let position = (1.0 - 0.2 * order as f32).max(0.6);
            let strength = if *weight < strongest { 0.5 } else { 1.0 };
            let boost = LEXICAL_BOOST * weight * strength * position;
            for (index, score) in scores.iter_mut().enumerate() {
                if self.taxonomy.is_within(index, *category) {
                    // The named node itself beats its descendants unless the embedding
                    // clearly prefers one of them.
                    *score += if index == *category {
                        boost
                    } else {
                        boost * 0.8
                    };
                }
            }
        }
        let mut ranked: Vec<usize> = (0..n).filter(|&i| scores[i] > 0.0).collect();
        let order = |a: &usize, b: &usize| {
            scores[*b]
                .total_cmp(&scores[*a])
                // Ties (lexical only): the shallower, named category first, then taxonomy order.
                .then(
                    self.taxonomy.categories[*a]
                        .depth
                        .cmp(&self.taxonomy.categories[*b].depth),
                )
                .then(a.cmp(b))
        };
        // Only the top few are reported: select them, then sort just those.
        if ranked.len() > TOP_CATEGORIES {
            ranked.select_nth_unstable_by(TOP_CATEGORIES, order);
            ranked.truncate(TOP_CATEGORIES);
        }
        ranked.sort_unstable_by(order);
        ranked
            .into_iter()
            .map(|index| {
                let category = &self.taxonomy.categories[index];
                let mut words: Vec<String> = evidence
                    .iter()
                    .filter(|(c, _)| self.taxonomy.is_within(index, **c))
                    .flat_map(|(_, phrases)| phrases.iter().cloned())
                    .collect();
                words.sort();
                words.dedup();
                CategoryMatch {
                    id: category.id.clone(),
                    path: category.path.clone(),
                    score: (scores[index]).clamp(0.0, 1.0),
                    evidence: words,
                }
            })
            .collect()
    }

    fn tags(
        &self,
        input: &TagInput<'_>,
        encoded: Option<&EncodedText>,
        attributes: &Attributes,
    ) -> Vec<Tag> {
        let mut tags = Vec::new();
        for hashtag in &input.parsed.hashtags {
            if lexicon::GENERIC_HASHTAGS.contains(&hashtag.as_str()) {
                continue;
            }
            tags.push(Tag {
                tag: hashtag.clone(),
                kind: TagKind::Hashtag,
                score: 0.8,
            });
        }
        for keyword in keywords::extract(input.text, encoded, 5) {
            tags.push(Tag {
                tag: keyword.phrase,
                kind: TagKind::Keyword,
                score: keyword.score,
            });
        }
        let attribute_values = attributes
            .color
            .iter()
            .chain(&attributes.material)
            .chain(&attributes.audience)
            .cloned()
            .chain(attributes.condition.map(|c| match c {
                Condition::New => "new".to_owned(),
                Condition::Used => "used".to_owned(),
                Condition::Refurbished => "refurbished".to_owned(),
            }));
        for value in attribute_values {
            tags.push(Tag {
                tag: value,
                kind: TagKind::Attribute,
                score: 0.7,
            });
        }
        for object in input.objects {
            tags.push(Tag {
                tag: object.to_lowercase(),
                kind: TagKind::Object,
                score: 0.6,
            });
        }
        dedupe(tags)
    }
}

/// Keeps each tag once (compared folded, without spaces or hyphens), at its best score.
fn dedupe(mut tags: Vec<Tag>) -> Vec<Tag> {
    tags.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut seen = BTreeSet::new();
    tags.retain(|t| {
        let key: String = fold(&t.tag)
            .chars()
            .filter(|c| c.is_alphanumeric())
            .collect();
        !key.is_empty() && seen.insert(key)
    });
    tags.truncate(MAX_TAGS);
    tags
}

fn attributes(parsed: &CaptionParse, words: &[String]) -> Attributes {
    let find = |table: &[(&str, &str)]| -> Vec<String> {
        let mut found = Vec::new();
        for (variants, name) in table {
            let hit = variants.split('|').any(|variant| {
                let variant: Vec<String> = self::words(&fold(variant));
                !variant.is_empty()
                    && words
                        .windows(variant.len())
                        .any(|w| w == variant.as_slice())
            });
            if hit && !found.iter().any(|f| f == name) {
                found.push((*name).to_owned());
            }
        }
        found
    };
    Attributes {
        color: parsed.colors.clone(),
        material: find(lexicon::MATERIALS),
        audience: find(lexicon::AUDIENCES),
        condition: parsed.condition,
    }
}

/// Words of already folded text: letters and digits, with inner `'` and `-` kept.
pub(crate) fn words(folded: &str) -> Vec<String> {
    folded
        .split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '-' || c == '%'))
        .map(|w| w.trim_matches(|c| c == '\'' || c == '-'))
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The text to encode for a post: the caption without URLs, mentions, hashtag signs,
/// long digit runs (phones) and emoji, which only add noise to a product embedding.
pub fn product_text(caption: &str) -> String {
    let mut out = String::with_capacity(caption.len());
    for token in caption.split_whitespace() {
        let lower = token.to_lowercase();
        if lower.starts_with("http")
            || lower.starts_with("www.")
            || lower.starts_with("wa.me")
            || token.starts_with('@')
        {
            continue;
        }
        let digits = token.chars().filter(char::is_ascii_digit).count();
        if digits >= 7 {
            continue;
        }
        let kept: String = token
            .trim_start_matches('#')
            .chars()
            .filter(|c| {
                c.is_alphanumeric()
                    || c.is_ascii_punctuation()
                    || c.is_whitespace()
                    || is_currency(*c)
            })
            .collect();
        if kept.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&kept);
    }
    out
}

fn is_currency(c: char) -> bool {
    matches!(c, '₦' | '€' | '£' | '₹' | '₱' | '₵' | '¥' | '$')
}

#[cfg(test)]
mod tests;
