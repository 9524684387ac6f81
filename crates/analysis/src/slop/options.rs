//! What a caller may set per document: the level bands.

use serde::{Deserialize, Serialize};

use super::output::Level;

/// What a caller may set per document.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ScoreOptions {
    /// Level bands: `{"watch": 0.3, "sloppy": 0.5, "high": 0.7}`, any subset.
    #[serde(default)]
    pub custom_thresholds: Option<Thresholds>,
}

/// Score bands for the levels: below `watch` is `Clean`, then `Watch`, `Sloppy`, and `High-Slop` from `high`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    /// Lowest `Watch` score.
    #[serde(default = "Thresholds::default_watch")]
    pub watch: f32,
    /// Lowest `Sloppy` score.
    #[serde(default = "Thresholds::default_sloppy")]
    pub sloppy: f32,
    /// Lowest `High-Slop` score.
    #[serde(default = "Thresholds::default_high")]
    pub high: f32,
}

impl Thresholds {
    fn default_watch() -> f32 {
        0.30
    }
    fn default_sloppy() -> f32 {
        0.50
    }
    fn default_high() -> f32 {
        0.70
    }
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            watch: Self::default_watch(),
            sloppy: Self::default_sloppy(),
            high: Self::default_high(),
        }
    }
}

impl Thresholds {
    /// The level of `score`: the highest band it reaches.
    pub fn level(&self, score: f32) -> Level {
        if score >= self.high {
            Level::HighSlop
        } else if score >= self.sloppy {
            Level::Sloppy
        } else if score >= self.watch {
            Level::Watch
        } else {
            Level::Clean
        }
    }
}
