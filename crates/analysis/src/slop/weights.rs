//! How the axes combine into one score: the weights per domain and the calibration line.

#[cfg(doc)]
use super::axis::Axis;
use super::axis::AxisWeights;

/// The prior: axis weights hand-set from the paper's findings.
pub const PRIOR_WEIGHTS: AxisWeights =
    AxisWeights([1.25, 1.0, 1.0, 1.25, 1.0, 2.0, 0.75, 1.0, 0.5, 0.75, 1.5]);

/// The `general` weights: halfway between [`PRIOR_WEIGHTS`] and a
/// non-negative least-squares fit on fixtures/slop/calibration.jsonl (24 texts written for
/// it, labelled slop / human), both scaled to sum 11. `postlens eval-slop` prints the fit,
/// this blend, and how each ranks Sloposcope's test_dataset.json, which the fit never sees
/// (Spearman rho: prior 0.564, fit 0.604, blend 0.624). The fit alone zeroes axes its 24
/// texts happen not to need (templated, fluency, subjectivity, coherence); the prior keeps them.
pub const GENERAL_WEIGHTS: AxisWeights = AxisWeights([
    2.70, 0.54, 1.87, 0.57, 0.67, 0.92, 0.34, 0.77, 0.23, 1.40, 0.99,
]);

/// Per-domain emphasis over the general weights, in [`Axis::ALL`] order, from the paper's
/// findings (news: relevance, factuality and density matter most; QA: relevance and
/// factuality, and verbosity). The ratios of the prior's news / QA weights to its general ones.
fn domain_emphasis(domain: &str) -> [f32; 11] {
    match domain {
        "news" => [1.2, 1.5, 1.5, 0.8, 1.0, 0.75, 1.33, 0.75, 1.0, 0.67, 0.83],
        "qa" => [0.8, 2.0, 2.0, 0.6, 1.0, 0.625, 1.33, 1.25, 1.0, 0.67, 0.83],
        _ => [1.0; 11],
    }
}

/// Per-domain weights of the axes (they need not sum to one; missing axes drop out):
/// `general`, `news`, `qa`; any other domain uses `general`.
pub fn domain_weights(domain: &str) -> AxisWeights {
    let emphasis = domain_emphasis(domain);
    AxisWeights(std::array::from_fn(|i| GENERAL_WEIGHTS.0[i] * emphasis[i]))
}

/// Raw weighted mean → reported score: `slope · raw + intercept`, clamped to 0..1. Fitted
/// by least squares on Sloposcope's test_dataset.json (`postlens eval-slop` prints the fit
/// and its error on texts held out of the fit). Ranks are unchanged by it; levels are not.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Calibration {
    /// Multiplies the raw mean.
    pub slope: f32,
    /// Added after.
    pub intercept: f32,
}

/// The calibration every score goes through.
pub const CALIBRATION: Calibration = Calibration {
    slope: 1.704,
    intercept: 0.051,
};

impl Calibration {
    /// The reported score of a raw weighted mean.
    pub fn apply(self, raw: f32) -> f32 {
        (self.slope * raw + self.intercept).clamp(0.0, 1.0)
    }

    /// The raw weighted mean behind a reported score (for refitting the calibration).
    pub fn invert(self, score: f32) -> f32 {
        (score - self.intercept) / self.slope
    }
}
