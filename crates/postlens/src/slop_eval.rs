//! `postlens eval-slop`: how well slop scores separate Sloposcope's own test texts.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;
use postlens_analysis::slop::{ScoreOptions, SlopResult};
use serde::Deserialize;
use text_scorer::{score_document, Models, TextSubmitted};

#[derive(Deserialize)]
struct DatasetText {
    doc_id: String,
    text: String,
    domain: String,
    expected_slop_range: f64,
}

#[derive(Deserialize)]
struct InlineCase {
    name: String,
    text: String,
    expected: String,
    domain: String,
}

fn score(models: &Models, doc_id: &str, text: &str, domain: &str) -> anyhow::Result<SlopResult> {
    let input = TextSubmitted {
        doc_id: doc_id.to_owned(),
        domain: domain.to_owned(),
        text: Some(text.to_owned()),
        s3_uri: None,
        prompt: None,
        references: Vec::new(),
        options: None,
    };
    Ok(score_document(models, text, &input, &ScoreOptions::default())?.result)
}

/// Spearman's rank correlation (average ranks for ties).
fn spearman(xs: &[f64], ys: &[f64]) -> f64 {
    fn ranks(values: &[f64]) -> Vec<f64> {
        let mut order: Vec<usize> = (0..values.len()).collect();
        order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
        let mut ranks = vec![0.0; values.len()];
        let mut i = 0;
        while i < order.len() {
            let mut j = i;
            while j + 1 < order.len() && values[order[j + 1]] == values[order[i]] {
                j += 1;
            }
            let average = (i + j) as f64 / 2.0 + 1.0;
            for k in i..=j {
                ranks[order[k]] = average;
            }
            i = j + 1;
        }
        ranks
    }
    let (rx, ry) = (ranks(xs), ranks(ys));
    let n = xs.len() as f64;
    let mean = (n + 1.0) / 2.0;
    let cov: f64 = rx
        .iter()
        .zip(&ry)
        .map(|(a, b)| (a - mean) * (b - mean))
        .sum();
    let var_x: f64 = rx.iter().map(|a| (a - mean).powi(2)).sum();
    let var_y: f64 = ry.iter().map(|b| (b - mean).powi(2)).sum();
    cov / (var_x * var_y).sqrt()
}

/// Nearest-rank percentile.
fn percentile(values: &[f64], q: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

pub fn run(data: &Path, models: &Models) -> anyhow::Result<String> {
    let read = |name: &str| {
        let path = data.join(name);
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
    };
    let dataset: Vec<DatasetText> = serde_json::from_str(&read("test_dataset.json")?)?;
    let cases: Vec<InlineCase> = serde_json::from_str(&read("inline_cases.json")?)?;
    let mut out = String::new();

    let mut expected = Vec::new();
    let mut results = Vec::new();
    for item in &dataset {
        expected.push(item.expected_slop_range);
        results.push(score(models, &item.doc_id, &item.text, &item.domain)?);
    }
    let scores: Vec<f64> = results.iter().map(|r| f64::from(r.slop_score)).collect();
    writeln!(
        out,
        "test_dataset.json: {} texts, Spearman rho(score, expected) = {:.3}",
        dataset.len(),
        spearman(&scores, &expected)
    )?;
    let mut buckets: Vec<f64> = expected.clone();
    buckets.sort_by(f64::total_cmp);
    buckets.dedup();
    for bucket in buckets {
        let in_bucket: Vec<f64> = scores
            .iter()
            .zip(&expected)
            .filter(|(_, e)| **e == bucket)
            .map(|(s, _)| *s)
            .collect();
        let mean = in_bucket.iter().sum::<f64>() / in_bucket.len() as f64;
        writeln!(
            out,
            "  expected {bucket:.1}: {} texts, mean score {mean:.3}",
            in_bucket.len()
        )?;
    }

    // The calibration slop::CALIBRATION holds: a least-squares line from raw score to
    // expected score, fitted on even-numbered texts and checked on odd ones.
    let raw: Vec<f64> = scores
        .iter()
        .map(|s| postlens_analysis::slop::uncalibrate(*s as f32) as f64)
        .collect();
    let fit = |indices: &[usize]| {
        let n = indices.len() as f64;
        let mx = indices.iter().map(|&i| raw[i]).sum::<f64>() / n;
        let my = indices.iter().map(|&i| expected[i]).sum::<f64>() / n;
        let sxy: f64 = indices
            .iter()
            .map(|&i| (raw[i] - mx) * (expected[i] - my))
            .sum();
        let sxx: f64 = indices.iter().map(|&i| (raw[i] - mx).powi(2)).sum();
        let slope = sxy / sxx.max(f64::EPSILON);
        (slope, my - slope * mx)
    };
    let even: Vec<usize> = (0..raw.len()).step_by(2).collect();
    let odd: Vec<usize> = (1..raw.len()).step_by(2).collect();
    let all: Vec<usize> = (0..raw.len()).collect();
    let (slope, intercept) = fit(&even);
    let held_out_error = odd
        .iter()
        .map(|&i| ((slope * raw[i] + intercept).clamp(0.0, 1.0) - expected[i]).abs())
        .sum::<f64>()
        / odd.len() as f64;
    let (slope_all, intercept_all) = fit(&all);
    writeln!(
        out,
        "calibration: fitted on even texts slope {slope:.3} intercept {intercept:.3} (mean abs error on odd texts {held_out_error:.3}); on all texts slope {slope_all:.3} intercept {intercept_all:.3}"
    )?;

    // slop::SURPRISAL_BITS_RANGE holds the 10th and 90th percentiles of the mean surprisal
    // over the dataset; the CV is printed to show why it is not scored.
    for (field, constant) in [
        ("lm_mean_surprisal_bits", "SURPRISAL_BITS_RANGE"),
        ("lm_surprisal_cv", "reported only"),
    ] {
        let values: Vec<f64> = results
            .iter()
            .filter_map(|r| {
                r.metrics
                    .get("density")?
                    .details
                    .get(field)
                    .copied()
                    .flatten()
            })
            .collect();
        if values.is_empty() {
            writeln!(out, "{field}: no language model")?;
            continue;
        }
        let paired: Vec<f64> = results
            .iter()
            .zip(&expected)
            .filter(|(r, _)| {
                r.metrics
                    .get("density")
                    .and_then(|m| m.details.get(field).copied().flatten())
                    .is_some()
            })
            .map(|(_, e)| *e)
            .collect();
        writeln!(
            out,
            "{field} ({constant}): p10 {:.2}, p50 {:.2}, p90 {:.2}; Spearman rho with expected {:.3}",
            percentile(&values, 0.1),
            percentile(&values, 0.5),
            percentile(&values, 0.9),
            spearman(&values, &paired)
        )?;
    }

    let mut high = Vec::new();
    let mut low = Vec::new();
    for case in &cases {
        let s = f64::from(score(models, &case.name, &case.text, &case.domain)?.slop_score);
        if case.expected == "high" {
            high.push((s, &case.name))
        } else {
            low.push((s, &case.name))
        }
    }
    // At the default Sloppy threshold, and at the best single threshold (an upper bound).
    let agree = |threshold: f64| {
        high.iter().filter(|(s, _)| *s >= threshold).count()
            + low.iter().filter(|(s, _)| *s < threshold).count()
    };
    let best = (0..100)
        .map(|t| t as f64 / 100.0)
        .map(|t| (agree(t), t))
        .max_by_key(|(n, _)| *n)
        .unwrap_or((0, 0.5));
    writeln!(
        out,
        "inline_cases.json: {}/{} right at the Sloppy threshold 0.50; {}/{} at the best threshold {:.2}",
        agree(0.5),
        cases.len(),
        best.0,
        cases.len(),
        best.1
    )?;
    for (s, name) in high.iter().chain(&low) {
        writeln!(out, "  {s:.3}  {name}")?;
    }
    Ok(out)
}
