//! Greedy per-class non-maximum suppression over decoded boxes.

use super::{Detection, DetectorSettings};

fn iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let w = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let h = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let intersection = w * h;
    let area = |r: &[f32; 4]| (r[2] - r[0]).max(0.0) * (r[3] - r[1]).max(0.0);
    let union = area(a) + area(b) - intersection;
    if union > 0.0 {
        intersection / union
    } else {
        0.0
    }
}

/// Greedy per-class non-maximum suppression, best score first.
pub(super) fn non_max_suppression(
    mut candidates: Vec<Detection>,
    settings: &DetectorSettings,
) -> Vec<Detection> {
    candidates.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<Detection> = Vec::new();
    for candidate in candidates {
        let overlaps = kept.iter().any(|k| {
            k.class_id == candidate.class_id && iou(&k.bbox, &candidate.bbox) > settings.nms_iou
        });
        if !overlaps {
            kept.push(candidate);
            if kept.len() == settings.max_detections {
                break;
            }
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yolox::COCO_LABELS;

    fn detection(class_id: usize, score: f32, bbox: [f32; 4]) -> Detection {
        Detection {
            class_id,
            label: COCO_LABELS[class_id],
            score,
            bbox,
        }
    }

    #[test]
    fn suppression_keeps_the_best_of_overlapping_boxes_of_one_class() {
        let kept = non_max_suppression(
            vec![
                detection(41, 0.6, [0.0, 0.0, 10.0, 10.0]),
                detection(41, 0.9, [1.0, 1.0, 11.0, 11.0]),
                detection(0, 0.5, [1.0, 1.0, 11.0, 11.0]),
                detection(41, 0.4, [50.0, 50.0, 60.0, 60.0]),
            ],
            &DetectorSettings::default(),
        );
        let summary: Vec<(usize, f32)> = kept.iter().map(|d| (d.class_id, d.score)).collect();
        assert_eq!(summary, vec![(41, 0.9), (0, 0.5), (41, 0.4)]);
    }
}
