//! One target per parser of untrusted input. Each takes any bytes and must not panic; the
//! invariants it also checks are the ones a consumer relies on (spans inside the text,
//! scores in range).

use std::sync::OnceLock;

use postlens_analysis::caption::parse_caption;
use postlens_analysis::slop::{self, ScoreOptions};
use postlens_analysis::tags::{product_text, TagInput, Tagger, Taxonomy, SHOPIFY_TAXONOMY};
use postlens_media::{decode_image, sample_video, MediaLimits, SamplingPlan};
use postlens_runtime::envelope::decode_body;

/// One parser of untrusted input, run on arbitrary bytes.
pub struct Target {
    /// Also the seed corpus's folder under `fixtures/fuzz/`.
    pub name: &'static str,
    /// Runs the parser on an input; a panic is a finding.
    pub run: fn(&[u8]),
    /// Longest input the mutator makes: big enough for the seeds, small enough to run fast.
    pub max_len: usize,
}

/// Every target, as `make fuzz` and the fixed-seed test run them.
pub const TARGETS: &[Target] = &[
    Target {
        name: "caption",
        run: caption,
        max_len: 4096,
    },
    Target {
        name: "tagger_text",
        run: tagger_text,
        max_len: 4096,
    },
    Target {
        name: "envelope",
        run: envelope,
        max_len: 16 * 1024,
    },
    Target {
        name: "mp4",
        run: mp4,
        max_len: 256 * 1024,
    },
    Target {
        name: "image",
        run: image,
        max_len: 64 * 1024,
    },
    Target {
        name: "slop",
        run: slop_score,
        max_len: 16 * 1024,
    },
];

/// Markets the caption targets pick from by the input's first byte.
const MARKETS: &[Option<&str>] = &[
    None,
    Some("NG"),
    Some("KE"),
    Some("BR"),
    Some("ID"),
    Some("IN"),
    Some("EG"),
    Some("FR"),
    Some("US"),
];

fn market(data: &[u8]) -> Option<&'static str> {
    MARKETS[data.first().copied().unwrap_or(0) as usize % MARKETS.len()]
}

fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

fn caption(data: &[u8]) {
    let caption = text(data);
    let parsed = parse_caption(&caption, market(data));
    let chars = caption.chars().count();
    if let Some(price) = &parsed.price {
        assert!(
            price.span.start <= price.span.end && price.span.end <= chars,
            "price span outside the caption"
        );
        assert!(
            price.amount.is_finite(),
            "price {} is not finite",
            price.amount
        );
    }
}

fn tagger() -> &'static Tagger {
    static TAGGER: OnceLock<Tagger> = OnceLock::new();
    TAGGER.get_or_init(|| {
        let taxonomy = Taxonomy::parse(SHOPIFY_TAXONOMY).expect("the bundled taxonomy parses");
        Tagger::new(taxonomy, None).expect("the bundled lexicon matches the taxonomy")
    })
}

/// The tagger's path without the model: product text, caption parse, lexical categories,
/// keywords, hashtags and attributes.
fn tagger_text(data: &[u8]) {
    let caption = text(data);
    let parsed = parse_caption(&caption, market(data));
    let product = product_text(&caption);
    let objects = vec!["cup".to_owned(), text(&data[..data.len().min(16)])];
    let result = tagger().tag(
        &TagInput {
            text: &product,
            parsed: &parsed,
            objects: &objects,
        },
        None,
    );
    for category in &result.categories {
        assert!(
            category.score.is_finite(),
            "category score {}",
            category.score
        );
    }
}

fn envelope(data: &[u8]) {
    let _ = decode_body(Some(&text(data)));
}

fn mp4(data: &[u8]) {
    let limits = MediaLimits {
        max_decoded_frames: 16,
        ..MediaLimits::default()
    };
    let plan = SamplingPlan {
        max_candidates: 4,
        ..SamplingPlan::default()
    };
    if let Ok(sampled) = sample_video(data, &limits, &plan) {
        for frame in &sampled.frames {
            assert_eq!(
                frame.pixels.len(),
                frame.width as usize * frame.height as usize * 3
            );
        }
    }
}

fn image(data: &[u8]) {
    if let Ok(frame) = decode_image(data, &MediaLimits::default()) {
        assert_eq!(
            frame.pixels.len(),
            frame.width as usize * frame.height as usize * 3
        );
        let luma = frame.luma();
        let (w, h) = (frame.width as usize, frame.height as usize);
        let quality = postlens_analysis::thumbnail::frame_quality(&luma, w, h);
        let centre = postlens_analysis::thumbnail::detail_centre(&luma, w, h);
        let crop = postlens_analysis::thumbnail::crop_around(
            frame.width,
            frame.height,
            (4, 5),
            None,
            centre,
            2.5,
        );
        assert!(quality.exposure.is_finite());
        assert!(
            crop.x + crop.w <= frame.width && crop.y + crop.h <= frame.height,
            "crop outside the frame"
        );
    }
}

fn slop_score(data: &[u8]) {
    let document = text(data);
    const DOMAINS: &[&str] = &["general", "news", "qa", "creative", ""];
    let domain = DOMAINS[data.first().copied().unwrap_or(0) as usize % DOMAINS.len()];
    let result = slop::score(&document, domain, None, &ScoreOptions::default());
    let chars = document.chars().count();
    assert!(
        (0.0..=1.0).contains(&result.slop_score),
        "slop score {}",
        result.slop_score
    );
    for span in &result.spans {
        assert!(
            span.start <= span.end && span.end <= chars,
            "span {}..{} outside {chars} chars",
            span.start,
            span.end
        );
    }
}
