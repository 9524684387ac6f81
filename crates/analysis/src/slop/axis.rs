//! The 11 axes of the score, and one number per axis in a fixed order.

use std::ops::Index;

/// One axis of the score (Shaib et al.'s taxonomy). [`Axis::ALL`] fixes the order of every
/// per-axis array (weights, `postlens eval-slop`'s rows); [`Axis::name`] is the key under
/// `metrics` in the result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Axis {
    /// Information density: surprisal per token (filler is predictable).
    Density,
    /// Relevance to the prompt or the reference texts.
    Relevance,
    /// Factuality markers: vague attributions, unsupported claims.
    Factuality,
    /// Subjective, evaluative wording.
    Subjectivity,
    /// Repeated words, phrases and sentence openings.
    Repetition,
    /// Stock phrases and templates ("it is important to note").
    Templated,
    /// Coherence between neighbouring sentences.
    Coherence,
    /// Verbosity: words that carry nothing.
    Verbosity,
    /// Fluency: too-smooth, low-variance surprisal.
    Fluency,
    /// Needless complexity: long words and sentences.
    Complexity,
    /// Tone: hype, flattery and register mismatches.
    Tone,
}

impl Axis {
    /// Every axis, in the order of the per-axis arrays.
    pub const ALL: [Axis; 11] = [
        Axis::Density,
        Axis::Relevance,
        Axis::Factuality,
        Axis::Subjectivity,
        Axis::Repetition,
        Axis::Templated,
        Axis::Coherence,
        Axis::Verbosity,
        Axis::Fluency,
        Axis::Complexity,
        Axis::Tone,
    ];

    /// The axis's key in the result's `metrics` (Sloposcope's names).
    pub const fn name(self) -> &'static str {
        match self {
            Axis::Density => "density",
            Axis::Relevance => "relevance",
            Axis::Factuality => "factuality",
            Axis::Subjectivity => "subjectivity",
            Axis::Repetition => "repetition",
            Axis::Templated => "templated",
            Axis::Coherence => "coherence",
            Axis::Verbosity => "verbosity",
            Axis::Fluency => "fluency",
            Axis::Complexity => "complexity",
            Axis::Tone => "tone",
        }
    }
}

/// One number per axis (a weight), in [`Axis::ALL`] order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AxisWeights(pub [f32; 11]);

impl AxisWeights {
    /// Each axis with its number, in [`Axis::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = (Axis, f32)> + '_ {
        Axis::ALL.into_iter().zip(self.0)
    }

    /// The sum over all axes, added in [`Axis::ALL`] order.
    pub fn sum(&self) -> f32 {
        self.0.iter().sum()
    }
}

impl Index<Axis> for AxisWeights {
    type Output = f32;

    fn index(&self, axis: Axis) -> &f32 {
        &self.0[axis as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_lists_each_axis_once_at_its_own_index() {
        for (i, axis) in Axis::ALL.into_iter().enumerate() {
            assert_eq!(axis as usize, i, "{axis:?}");
        }
        let mut names: Vec<&str> = Axis::ALL.iter().map(|a| a.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 11);
    }
}
