//! fastText's lid.176 (compressed, 938 KB; CC-BY-SA 3.0), read by the pure-Rust
//! `fasttext-pure-rs` crate: the language detector's model where its rules abstain.

use std::path::Path;

use fasttext_pure_rs::FastText;
use postlens_analysis::language::{Language, LanguageModel};

use crate::{require, ModelError};

/// The file under the model directory (`make models`).
pub const LID_176: &str = "lid-176/lid.176.ftz";

/// Labels read per text: lid.176 knows 176 languages, and ours are usually among its first.
const LABELS_READ: usize = 10;

/// fastText's language identifier, restricted to the languages we tell apart.
pub struct LanguageId {
    model: FastText,
}

impl LanguageId {
    /// Loads `lid-176/lid.176.ftz` from `model_dir`.
    pub fn load(model_dir: &Path) -> Result<Self, ModelError> {
        let path = model_dir.join(LID_176);
        let model = FastText::load(require(&path)?).map_err(|e| ModelError::Load {
            path: path.clone(),
            message: e.to_string(),
        })?;
        Ok(Self { model })
    }
}

impl LanguageModel for LanguageId {
    fn rank(&self, text: &str) -> Vec<(Language, f32)> {
        // fastText still ranks a text without words (by its end-of-line token alone); the
        // rules say nothing there, and neither does the model.
        if text.trim().is_empty() {
            return Vec::new();
        }
        // fastText reads one line; a caption's line breaks would end it early.
        let line = text.replace(['\n', '\r'], " ");
        self.model
            .predict(&line, LABELS_READ, 0.0)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|prediction| {
                let code = prediction.label.strip_prefix("__label__")?;
                Some((Language::from_code(code)?, prediction.probability))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> Option<LanguageId> {
        let dir = crate::model_dir()?;
        dir.join(LID_176)
            .is_file()
            .then(|| LanguageId::load(&dir).expect("lid.176 loads"))
    }

    #[test]
    fn plain_sentences_are_ranked_by_lid_176() {
        let Some(model) = model() else {
            eprintln!("skipped: run `make models`");
            return;
        };
        for (text, want) in [
            ("vendo chamarra casi nueva la usé dos veces", Language::Es),
            ("verkaufe meine winterjacke kaum getragen", Language::De),
            (
                "nauza simu iliyotumika iko katika hali nzuri sana",
                Language::Sw,
            ),
            (
                "benta ko na itong damit isang beses ko lang nasuot",
                Language::Tl,
            ),
        ] {
            let ranked = model.rank(text);
            assert_eq!(
                ranked.first().map(|r| r.0),
                Some(want),
                "{text}: {ranked:?}"
            );
        }
        assert!(model.rank("").is_empty());
    }
}
