//! What scoring returns: per-axis metrics, the flagged spans (bounded), the level.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[cfg(doc)]
use super::options::Thresholds;

/// One axis: `value` (None when it cannot be measured on this text) and sub-fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metric {
    /// 0 (clean) to 1 (sloppy); `None` when the axis cannot be measured on this text.
    pub value: Option<f32>,
    /// The axis's raw measurements, by name.
    #[serde(flatten)]
    pub details: BTreeMap<String, Option<f64>>,
}

impl Metric {
    pub(crate) fn new(value: Option<f32>, details: &[(&str, Option<f64>)]) -> Self {
        Self {
            value: value.map(|v| v.clamp(0.0, 1.0)),
            details: details.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect(),
        }
    }
}

/// A flagged stretch of text. `start`/`end` count Unicode code points (Python's
/// `text[start:end]` is the phrase).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Span {
    /// First character.
    pub start: usize,
    /// One past the last character.
    pub end: usize,
    /// The axis that flagged it ([`super::Axis::name`]).
    pub axis: String,
    /// Why, e.g. the stock phrase matched.
    pub note: String,
}

/// The `text-scored` result: the score, its level, each axis and the flagged spans.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlopResult {
    /// [`super::VERSION`].
    pub version: String,
    /// The domain whose weights were used.
    pub domain: String,
    /// 0 (clean) to 1 (sloppy), calibrated.
    pub slop_score: f32,
    /// 0 to 1: the share of the weight on axes that could be measured, lowered for texts
    /// shorter than 60 words.
    pub confidence: f32,
    /// The band `slop_score` falls in.
    pub level: Level,
    /// Each axis, by [`super::Axis::name`].
    pub metrics: BTreeMap<String, Metric>,
    /// At most [`MAX_SPANS_PER_AXIS`] per axis and [`MAX_SPANS`] in all, earliest first;
    /// overlapping spans of one axis and note are merged.
    pub spans: Vec<Span>,
    /// Spans found but left out by those bounds (0 when every span is listed).
    #[serde(default)]
    pub spans_omitted: usize,
}

/// The band a score falls in, by the [`Thresholds`] in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Level {
    /// Below `watch`.
    Clean,
    /// From `watch`.
    Watch,
    /// From `sloppy`.
    Sloppy,
    /// From `high`.
    #[serde(rename = "High-Slop")]
    HighSlop,
}

impl Level {
    /// The name the result carries (Sloposcope's).
    pub const fn as_str(self) -> &'static str {
        match self {
            Level::Clean => "Clean",
            Level::Watch => "Watch",
            Level::Sloppy => "Sloppy",
            Level::HighSlop => "High-Slop",
        }
    }
}

/// Spans listed per axis. Spans grow with the text (a 39 KB boilerplate document found
/// about 3,000, a result over SNS's 256 KiB); the first few dozen of an axis show a reader
/// what it found, and the metric already counts the rest.
pub const MAX_SPANS_PER_AXIS: usize = 32;
/// Spans listed in all, which keeps the result under ~12 KB of spans whatever the text.
pub const MAX_SPANS: usize = 128;

/// Merges overlapping spans of the same axis and note, then keeps the earliest within the
/// bounds; answers the spans kept and how many were left out.
pub(crate) fn bound_spans(mut spans: Vec<Span>) -> (Vec<Span>, usize) {
    spans.sort_by_key(|s| (s.start, s.end));
    let mut merged: Vec<Span> = Vec::with_capacity(spans.len());
    for span in spans {
        // Overlapping matches of one axis and note (one phrase inside another) are one
        // finding; neighbours ("may perhaps") stay apart, each a phrase of its own.
        let previous = merged
            .iter_mut()
            .rev()
            .take_while(|p| p.end > span.start)
            .find(|p| p.axis == span.axis && p.note == span.note);
        match previous {
            Some(previous) => previous.end = previous.end.max(span.end),
            None => merged.push(span),
        }
    }
    let mut per_axis: BTreeMap<String, usize> = BTreeMap::new();
    let mut kept = Vec::with_capacity(merged.len().min(MAX_SPANS));
    let mut omitted = 0;
    for span in merged {
        let count = per_axis.entry(span.axis.clone()).or_default();
        if *count < MAX_SPANS_PER_AXIS && kept.len() < MAX_SPANS {
            *count += 1;
            kept.push(span);
        } else {
            omitted += 1;
        }
    }
    (kept, omitted)
}
