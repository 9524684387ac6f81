//! A pre-flight walk over an MP4's boxes, before `re_mp4` builds its sample list.
//!
//! `re_mp4` allocates one `Sample` per declared sample, and with a constant sample size
//! (`stsz`) or a `trun` without per-sample fields the count costs no bytes in the file: a
//! 1 KB file can declare four billion samples and take the process down with an out-of-
//! memory kill, which no `catch_unwind` stops. This walk reads only box headers and the
//! sample counts, and refuses files whose counts cannot be true.

use crate::{MediaError, MediaLimits};

/// Boxes whose body is a list of boxes: every box `re_mp4` reads child by child.
const CONTAINERS: &[&[u8; 4]] = &[
    b"moov", b"trak", b"mdia", b"minf", b"stbl", b"moof", b"traf", b"mvex", b"edts", b"dinf",
    b"udta", b"ilst",
];

/// Boxes whose children start after a fixed prefix: `meta` is a full box (version and
/// flags), `stsd` adds an entry count, and sample entries have their fields first (78 bytes
/// for video, 28 for audio). These are the ones whose children `re_mp4` reads in a loop.
const PREFIXED_CONTAINERS: &[(&[u8; 4], usize)] = &[
    (b"meta", 4),
    (b"stsd", 8),
    (b"dref", 8),
    (b"avc1", 78),
    (b"hvc1", 78),
    (b"hev1", 78),
    (b"mp4a", 28),
];

/// Deepest nesting followed: real files nest five deep (moov/trak/mdia/minf/stbl).
const MAX_DEPTH: usize = 8;

/// Checks every sample table of `bytes` against the file's size and `limits`.
pub fn check_sample_tables(bytes: &[u8], limits: &MediaLimits) -> Result<(), MediaError> {
    let mut samples = 0u64;
    walk(bytes, bytes.len() as u64, limits, 0, &mut samples)
}

fn walk(
    data: &[u8],
    file_len: u64,
    limits: &MediaLimits,
    depth: usize,
    samples: &mut u64,
) -> Result<(), MediaError> {
    let mut rest = data;
    while rest.len() >= 8 {
        let declared = u64::from(be_u32(rest, 0));
        let kind: [u8; 4] = [rest[4], rest[5], rest[6], rest[7]];
        let (header, size) = match declared {
            // "To the end of the file", which only a top-level box may say: `re_mp4` stops
            // there, but inside a container it seeks back to the same header for ever.
            0 if depth == 0 => (8, rest.len() as u64),
            0 => return Err(corrupt(&kind, "inside another box declares size 0")),
            // A 64-bit size follows the type.
            1 if rest.len() >= 16 => (16, be_u64(rest, 8)),
            1 => return Ok(()),
            n => (8, n),
        };
        if size < header as u64 {
            // Also a loop in `re_mp4`: skipping such a box moves backwards.
            return Err(corrupt(&kind, "declares a size smaller than its header"));
        }
        // Inside a container a child must fit in what is left of its parent: `re_mp4`
        // allocates some boxes by their declared size (an unknown box in `meta` took a
        // 7 EB allocation, which aborts the process). At the top level a box running past
        // the end of the file is cut to what is there, and `re_mp4` reports it.
        if depth > 0 && size > rest.len() as u64 {
            return Err(corrupt(&kind, "runs past the end of the box holding it"));
        }
        let end = usize::try_from(size).unwrap_or(usize::MAX).min(rest.len());
        let body = &rest[header.min(end)..end];
        let prefix = PREFIXED_CONTAINERS
            .iter()
            .find(|(name, _)| **name == kind)
            // QuickTime writes `meta` without the full-box header: `hdlr` comes first.
            .map(|&(name, prefix)| match (name, body.get(4..8)) {
                (b"meta", Some(b"hdlr")) => 0,
                _ => prefix,
            });
        if CONTAINERS.contains(&&kind) && depth < MAX_DEPTH {
            walk(body, file_len, limits, depth + 1, samples)?;
            // After the walk, so a sample count over the limit is named as such
            // (`too_many_samples`) rather than as tables that disagree.
            if &kind == b"stbl" {
                check_sample_tables_agree(body)?;
            }
        } else if let (Some(prefix), true) = (prefix, depth < MAX_DEPTH) {
            walk(
                body.get(prefix..).unwrap_or_default(),
                file_len,
                limits,
                depth + 1,
                samples,
            )?;
        } else if &kind == b"stsz" && body.len() >= 12 {
            let sample_size = u64::from(be_u32(body, 4));
            let count = u64::from(be_u32(body, 8));
            if sample_size > 0 && count.saturating_mul(sample_size) > file_len {
                return Err(corrupt(
                    &kind,
                    &format!(
                        "declares {count} samples of {sample_size} bytes in a {file_len}-byte file"
                    ),
                ));
            }
            add_samples(samples, count, limits)?;
        } else if &kind == b"trun" && body.len() >= 8 {
            add_samples(samples, u64::from(be_u32(body, 4)), limits)?;
        }
        rest = &rest[end..];
    }
    Ok(())
}

/// The tables `re_mp4` 0.5.1 walks side by side for each sample, indexing each by a position
/// it counts without a bounds check (`reader.rs`, `read_samples`): the chunk offsets
/// (`stco`/`co64`) by the chunk `stsc` puts the sample in, and the `stts` and `ctts` runs by
/// the sample's number. Tables that run out before the samples do panic there; the panic is
/// caught, but it is refused here first with a reason. Checked only when `stsz`, `stsc`, a
/// chunk table and `stts` are all present: a missing one is `re_mp4`'s own error.
fn check_sample_tables_agree(stbl: &[u8]) -> Result<(), MediaError> {
    let (mut stsz, mut stsc, mut chunks, mut stts, mut ctts) = (None, None, None, None, None);
    let mut rest = stbl;
    while rest.len() >= 8 {
        let size = (be_u32(rest, 0) as usize).clamp(8, rest.len());
        let body = &rest[8..size];
        match &rest[4..8] {
            b"stsz" => stsz = body.get(8..12).map(|count| be_u32(count, 0)),
            b"stsc" => stsc = Some(body),
            b"stco" | b"co64" => chunks = body.get(4..8).map(|count| be_u32(count, 0)),
            b"stts" => stts = Some(body),
            b"ctts" => ctts = Some(body),
            _ => {}
        }
        rest = &rest[size..];
    }
    let (Some(samples), Some(stsc), Some(chunks), Some(stts)) = (stsz, stsc, chunks, stts) else {
        return Ok(());
    };
    let samples = u64::from(samples);
    if samples == 0 {
        return Ok(());
    }
    let runs: Vec<(u64, u64)> = entries(stsc, 12)
        .map(|entry| (u64::from(be_u32(entry, 0)), u64::from(be_u32(entry, 4))))
        .collect();
    let mut room = 0u64;
    for (index, &(first_chunk, per_chunk)) in runs.iter().enumerate() {
        let next_first = runs
            .get(index + 1)
            .map_or(u64::from(chunks) + 1, |next| next.0);
        let starts_right = if index == 0 {
            first_chunk == 1
        } else {
            first_chunk > runs[index - 1].0
        };
        if !starts_right || per_chunk == 0 || next_first < first_chunk {
            return Err(corrupt(
                b"stsc",
                "lists chunk runs that are not in order from chunk 1",
            ));
        }
        room = room.saturating_add((next_first - first_chunk).saturating_mul(per_chunk));
    }
    if room < samples {
        return Err(corrupt(
            b"stsc",
            &format!("and the chunk table hold {room} samples, stsz declares {samples}"),
        ));
    }
    for (table, kind) in [(Some(stts), b"stts"), (ctts, b"ctts")] {
        let Some(table) = table else { continue };
        let timed = entries(table, 8).fold(0u64, |total, entry| {
            total.saturating_add(u64::from(be_u32(entry, 0)))
        });
        if timed < samples {
            return Err(corrupt(
                kind,
                &format!("times {timed} samples, stsz declares {samples}"),
            ));
        }
    }
    Ok(())
}

/// The entries of a full box that holds a count and then fixed-size entries, as many as its
/// body really holds.
fn entries(body: &[u8], size: usize) -> impl Iterator<Item = &[u8]> {
    let count = body.get(4..8).map_or(0, |count| be_u32(count, 0) as usize);
    body.get(8..)
        .unwrap_or_default()
        .chunks_exact(size)
        .take(count)
}

fn add_samples(total: &mut u64, count: u64, limits: &MediaLimits) -> Result<(), MediaError> {
    *total = total.saturating_add(count);
    if *total > limits.max_samples {
        return Err(MediaError::TooManySamples {
            declared: *total,
            limit: limits.max_samples,
        });
    }
    Ok(())
}

fn corrupt(kind: &[u8; 4], what: &str) -> MediaError {
    MediaError::Corrupt(format!("{} box {what}", String::from_utf8_lossy(kind)))
}

fn be_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

fn be_u64(bytes: &[u8], at: usize) -> u64 {
    (u64::from(be_u32(bytes, at)) << 32) | u64::from(be_u32(bytes, at + 4))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mp4_box(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(body);
        out
    }

    /// moov/trak/mdia/minf/stbl/stsz with a constant sample size.
    fn constant_stsz(sample_size: u32, count: u32) -> Vec<u8> {
        let mut body = vec![0, 0, 0, 0];
        body.extend(sample_size.to_be_bytes());
        body.extend(count.to_be_bytes());
        let mut inner = mp4_box(b"stsz", &body);
        for kind in [b"stbl", b"minf", b"mdia", b"trak", b"moov"] {
            inner = mp4_box(kind, &inner);
        }
        inner
    }

    #[test]
    fn a_billion_constant_size_samples_in_a_tiny_file_are_refused() {
        let file = constant_stsz(1, u32::MAX);
        let error = check_sample_tables(&file, &MediaLimits::default()).unwrap_err();
        assert_eq!(error.code(), "corrupt_media", "{error}");
        // Zero-sized samples fit any file; the count cap stops them.
        let file = constant_stsz(0, u32::MAX);
        let error = check_sample_tables(&file, &MediaLimits::default()).unwrap_err();
        assert_eq!(error.code(), "too_many_samples", "{error}");
        let mut body = vec![0, 0, 0, 0];
        body.extend(u32::MAX.to_be_bytes());
        let trun = mp4_box(b"moof", &mp4_box(b"traf", &mp4_box(b"trun", &body)));
        let error = check_sample_tables(&trun, &MediaLimits::default()).unwrap_err();
        assert_eq!(error.code(), "too_many_samples");
    }

    #[test]
    fn zero_and_short_sizes_inside_a_box_are_refused() {
        // Found by the mp4 fuzz target: a zero-size box inside moov made re_mp4 loop for ever.
        let zero_child = mp4_box(b"moov", &[0, 0, 0, 0, b'u', b'd', b't', b'a']);
        let error = check_sample_tables(&zero_child, &MediaLimits::default()).unwrap_err();
        assert_eq!(error.code(), "corrupt_media", "{error}");
        let short_child = mp4_box(
            b"moov",
            &mp4_box(b"trak", &[0, 0, 0, 5, b'm', b'd', b'i', b'a']),
        );
        assert!(check_sample_tables(&short_child, &MediaLimits::default()).is_err());
        // A child larger than its parent (an unknown box in meta once asked for 7 EB).
        let mut meta_body = vec![0, 0, 0, 0];
        meta_body.extend(mp4_box(b"hdlr", &[0; 24]));
        meta_body.extend_from_slice(&[0x7F, 0xFF, 0xFF, 0xFF, b'x', b'x', b'x', b'x']);
        let oversized = mp4_box(b"moov", &mp4_box(b"udta", &mp4_box(b"meta", &meta_body)));
        assert!(check_sample_tables(&oversized, &MediaLimits::default()).is_err());
        // At the top level, size 0 means "to the end of the file".
        let mut last = vec![0, 0, 0, 0];
        last.extend_from_slice(b"mdat");
        last.extend_from_slice(&[1, 2, 3]);
        assert!(check_sample_tables(&last, &MediaLimits::default()).is_ok());
    }

    #[test]
    fn honest_tables_and_odd_headers_pass_through() {
        // 20 one-byte samples fit in the file's ~70 bytes; 20 of 10 bytes would not.
        assert!(check_sample_tables(&constant_stsz(1, 20), &MediaLimits::default()).is_ok());
        assert!(check_sample_tables(&constant_stsz(10, 20), &MediaLimits::default()).is_err());
        assert!(check_sample_tables(b"", &MediaLimits::default()).is_ok());
        assert!(check_sample_tables(
            &[0, 0, 0, 1, b'm', b'o', b'o', b'v'],
            &MediaLimits::default()
        )
        .is_ok());
        let bad = [0, 0, 0, 4, b'm', b'o', b'o', b'v'];
        assert!(check_sample_tables(&bad, &MediaLimits::default()).is_err());
    }

    /// An stbl of `samples` samples in chunks of `per_chunk` (one stsc run) with `chunks`
    /// chunk offsets, timed by one stts run of `timed` samples.
    fn stbl(samples: u32, per_chunk: u32, chunks: u32, timed: u32) -> Vec<u8> {
        let table = |count: u32, entries: &[u32]| {
            let mut body = vec![0, 0, 0, 0];
            body.extend(count.to_be_bytes());
            for entry in entries {
                body.extend(entry.to_be_bytes());
            }
            body
        };
        let mut stsz = vec![0, 0, 0, 0];
        stsz.extend(1u32.to_be_bytes());
        stsz.extend(samples.to_be_bytes());
        let mut body = mp4_box(b"stsz", &stsz);
        body.extend(mp4_box(b"stsc", &table(1, &[1, per_chunk, 1])));
        body.extend(mp4_box(b"stco", &table(chunks, &vec![0; chunks as usize])));
        body.extend(mp4_box(b"stts", &table(1, &[timed, 512])));
        let mut inner = mp4_box(b"stbl", &body);
        for kind in [b"minf", b"mdia", b"trak", b"moov"] {
            inner = mp4_box(kind, &inner);
        }
        inner
    }

    /// re_mp4 0.5.1 indexes stco by the chunk stsc puts a sample in, and stts by the
    /// sample's number, unchecked: found by the libFuzzer mp4 target (a caught panic).
    #[test]
    fn sample_tables_that_run_out_before_the_samples_are_refused() {
        let limits = MediaLimits::default();
        assert!(check_sample_tables(&stbl(25, 25, 1, 25), &limits).is_ok());
        assert!(check_sample_tables(&stbl(25, 5, 5, 25), &limits).is_ok());
        let error = check_sample_tables(&stbl(25, 1, 1, 25), &limits).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("hold 1 samples, stsz declares 25"),
            "{error}"
        );
        let error = check_sample_tables(&stbl(25, 25, 1, 24), &limits).unwrap_err();
        assert!(error.to_string().contains("stts box times 24"), "{error}");
        let error = check_sample_tables(&stbl(25, 0, 1, 25), &limits).unwrap_err();
        assert!(error.to_string().contains("not in order"), "{error}");
    }
}
