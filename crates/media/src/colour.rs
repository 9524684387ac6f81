//! Which YUV → RGB conversion a video stream asks for: for H.264, read from its sequence
//! parameter set's VUI (`video_signal_type`: `video_full_range_flag` and
//! `matrix_coefficients`); for HEVC, from the sample entry's `colr` box (`nclx`, or QuickTime's
//! `nclc`), which phones and FFmpeg write beside the stream.
//!
//! Phones tag HD video BT.709; converted as BT.601 a frame's colours shift by a few levels
//! on average and up to 18 on saturated ones. A stream that says nothing (no VUI, or
//! matrix "unspecified") is read as BT.601 limited range, as FFmpeg does, which is also
//! what this project did before it read the VUI.

/// The conversion of one stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Colour {
    /// The YUV matrix.
    pub matrix: Matrix,
    /// Full range (Y 0-255) rather than limited (Y 16-235, chroma 16-240).
    pub full_range: bool,
}

/// A YUV matrix, as `matrix_coefficients` (H.264, HEVC and ISO/IEC 23091-2 alike) names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Matrix {
    /// ITU-R BT.601 (codes 5 and 6, and anything unspecified or not handled).
    Bt601,
    /// ITU-R BT.709 (code 1).
    Bt709,
    /// ITU-R BT.2020 non-constant luminance (code 9; code 10, constant luminance, is read as
    /// it too): iPhones record HDR video (10-bit HLG) with it by default.
    Bt2020,
}

impl Matrix {
    fn from_code(code: u32) -> Self {
        match code {
            1 => Self::Bt709,
            9 | 10 => Self::Bt2020,
            _ => Self::Bt601,
        }
    }

    /// The name a [`crate::VideoInfo`] reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Bt601 => "bt601",
            Self::Bt709 => "bt709",
            Self::Bt2020 => "bt2020",
        }
    }
}

impl Default for Colour {
    fn default() -> Self {
        Self {
            matrix: Matrix::Bt601,
            full_range: false,
        }
    }
}

/// Integer YUV → RGB coefficients in 8.8 fixed point: `R = (gain (Y - offset) + rv V') >> 8`,
/// `G = (gain (Y - offset) - gu U' - gv V') >> 8`, `B = (gain (Y - offset) + bu U') >> 8`, with
/// `U' = U - 128` and `V' = V - 128`. Integers, so every CPU gets the same pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Coefficients {
    pub y_offset: i32,
    pub y_gain: i32,
    pub rv: i32,
    pub gu: i32,
    pub gv: i32,
    pub bu: i32,
}

impl Colour {
    pub(crate) fn coefficients(self) -> Coefficients {
        // Limited range scales luma by 255/219 and chroma by 255/224 on top of the matrix.
        match (self.matrix, self.full_range) {
            (Matrix::Bt601, false) => Coefficients {
                y_offset: 16,
                y_gain: 298,
                rv: 409,
                gu: 100,
                gv: 208,
                bu: 516,
            },
            (Matrix::Bt709, false) => Coefficients {
                y_offset: 16,
                y_gain: 298,
                rv: 459,
                gu: 55,
                gv: 136,
                bu: 541,
            },
            (Matrix::Bt601, true) => Coefficients {
                y_offset: 0,
                y_gain: 256,
                rv: 359,
                gu: 88,
                gv: 183,
                bu: 454,
            },
            (Matrix::Bt709, true) => Coefficients {
                y_offset: 0,
                y_gain: 256,
                rv: 403,
                gu: 48,
                gv: 120,
                bu: 475,
            },
            // Kr 0.2627, Kb 0.0593.
            (Matrix::Bt2020, false) => Coefficients {
                y_offset: 16,
                y_gain: 298,
                rv: 430,
                gu: 48,
                gv: 167,
                bu: 548,
            },
            (Matrix::Bt2020, true) => Coefficients {
                y_offset: 0,
                y_gain: 256,
                rv: 377,
                gu: 42,
                gv: 146,
                bu: 482,
            },
        }
    }
}

/// The colour a sequence parameter set NAL unit (header byte included) signals; the default
/// when it signals none. `None` when the NAL unit cannot be read as an SPS.
pub fn colour_of_sps(nal: &[u8]) -> Option<Colour> {
    let rbsp = unescape(nal.get(1..)?);
    let mut bits = Bits::new(&rbsp);
    let profile_idc = bits.read(8)?;
    bits.skip(16)?; // constraint flags, level_idc
    bits.ue()?; // seq_parameter_set_id
    if matches!(
        profile_idc,
        100 | 110 | 122 | 244 | 44 | 83 | 86 | 118 | 128 | 138 | 139 | 134 | 135
    ) {
        let chroma_format_idc = bits.ue()?;
        if chroma_format_idc == 3 {
            bits.skip(1)?; // separate_colour_plane_flag
        }
        bits.ue()?; // bit_depth_luma_minus8
        bits.ue()?; // bit_depth_chroma_minus8
        bits.skip(1)?; // qpprime_y_zero_transform_bypass_flag
        if bits.flag()? {
            let lists = if chroma_format_idc == 3 { 12 } else { 8 };
            for list in 0..lists {
                if bits.flag()? {
                    skip_scaling_list(&mut bits, if list < 6 { 16 } else { 64 })?;
                }
            }
        }
    }
    bits.ue()?; // log2_max_frame_num_minus4
    match bits.ue()? {
        0 => {
            bits.ue()?; // log2_max_pic_order_cnt_lsb_minus4
        }
        1 => {
            bits.skip(1)?; // delta_pic_order_always_zero_flag
            bits.se()?; // offset_for_non_ref_pic
            bits.se()?; // offset_for_top_to_bottom_field
            let cycle = bits.ue()?;
            if cycle > 255 {
                return None;
            }
            for _ in 0..cycle {
                bits.se()?;
            }
        }
        _ => {}
    }
    bits.ue()?; // max_num_ref_frames
    bits.skip(1)?; // gaps_in_frame_num_value_allowed_flag
    bits.ue()?; // pic_width_in_mbs_minus1
    bits.ue()?; // pic_height_in_map_units_minus1
    if !bits.flag()? {
        bits.skip(1)?; // mb_adaptive_frame_field_flag
    }
    bits.skip(1)?; // direct_8x8_inference_flag
    if bits.flag()? {
        for _ in 0..4 {
            bits.ue()?; // frame_crop_*_offset
        }
    }
    if !bits.flag()? {
        return Some(Colour::default()); // no VUI
    }
    if bits.flag()? {
        // aspect_ratio_info_present_flag
        if bits.read(8)? == 255 {
            bits.skip(32)?; // sar_width, sar_height
        }
    }
    if bits.flag()? {
        bits.skip(1)?; // overscan_appropriate_flag
    }
    if !bits.flag()? {
        return Some(Colour::default()); // no video_signal_type
    }
    bits.skip(3)?; // video_format
    let full_range = bits.flag()?;
    let mut matrix = Matrix::Bt601;
    if bits.flag()? {
        bits.skip(16)?; // colour_primaries, transfer_characteristics
        matrix = Matrix::from_code(bits.read(8)?);
    }
    Some(Colour { matrix, full_range })
}

/// The colour a `colr` box's body (after its 8-byte header) signals: `nclx` (ISO/IEC 14496-12:
/// primaries, transfer and matrix as 16-bit codes, then the full-range bit) or QuickTime's
/// `nclc` (the same codes, no range bit: video range). `None` for an ICC profile or a body
/// too short to hold its codes.
pub fn colour_of_colr(body: &[u8]) -> Option<Colour> {
    let kind = body.get(..4)?;
    let matrix = u16::from_be_bytes([*body.get(8)?, *body.get(9)?]);
    let full_range = match kind {
        b"nclx" => body.get(10)? & 0x80 != 0,
        b"nclc" => false,
        _ => return None,
    };
    Some(Colour {
        matrix: Matrix::from_code(u32::from(matrix)),
        full_range,
    })
}

fn skip_scaling_list(bits: &mut Bits<'_>, size: usize) -> Option<()> {
    let (mut last, mut next) = (8i64, 8i64);
    for _ in 0..size {
        if next != 0 {
            let delta = bits.se()?;
            next = (last + delta + 256).rem_euclid(256);
        }
        if next != 0 {
            last = next;
        }
    }
    Some(())
}

/// The RBSP: `00 00 03` loses its emulation-prevention `03`.
fn unescape(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len());
    let mut zeros = 0;
    for &byte in payload {
        if zeros >= 2 && byte == 3 {
            zeros = 0;
            continue;
        }
        zeros = if byte == 0 { zeros + 1 } else { 0 };
        out.push(byte);
    }
    out
}

/// A big-endian bit reader that answers `None` past the end.
struct Bits<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Bits<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, at: 0 }
    }

    fn bit(&mut self) -> Option<u32> {
        let byte = self.bytes.get(self.at / 8)?;
        let bit = (byte >> (7 - self.at % 8)) & 1;
        self.at += 1;
        Some(u32::from(bit))
    }

    fn flag(&mut self) -> Option<bool> {
        self.bit().map(|b| b == 1)
    }

    fn read(&mut self, count: u32) -> Option<u32> {
        (0..count).try_fold(0u32, |value, _| Some((value << 1) | self.bit()?))
    }

    fn skip(&mut self, count: usize) -> Option<()> {
        if self.at + count > self.bytes.len() * 8 {
            return None;
        }
        self.at += count;
        Some(())
    }

    /// Exp-Golomb unsigned; more than 31 leading zeros is not a value an SPS holds.
    fn ue(&mut self) -> Option<u32> {
        let mut zeros = 0;
        while self.bit()? == 0 {
            zeros += 1;
            if zeros > 31 {
                return None;
            }
        }
        let rest = self.read(zeros)?;
        Some(((1u64 << zeros) - 1 + u64::from(rest)).min(u64::from(u32::MAX)) as u32)
    }

    fn se(&mut self) -> Option<i64> {
        let k = i64::from(self.ue()?);
        Some(if k % 2 == 1 { (k + 1) / 2 } else { -(k / 2) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_golomb_and_emulation_prevention() {
        // 1 -> 0, 010 -> 1, 011 -> 2, 00100 -> 3
        let bytes = [0b1010_0110, 0b0100_0000];
        let mut bits = Bits::new(&bytes);
        assert_eq!(
            (bits.ue(), bits.ue(), bits.ue(), bits.ue()),
            (Some(0), Some(1), Some(2), Some(3))
        );
        assert_eq!(unescape(&[0, 0, 3, 1, 0, 0, 3, 0]), vec![0, 0, 1, 0, 0, 0]);
        assert_eq!(Bits::new(&[]).ue(), None);
        assert_eq!(Bits::new(&[0, 0, 0, 0, 0]).ue(), None, "no 33-bit codes");
    }

    #[test]
    fn colr_boxes_name_matrix_and_range() {
        // nclx: BT.2020 primaries (9), HLG (18), BT.2020 NCL matrix (9), limited range.
        let hlg = [b'n', b'c', b'l', b'x', 0, 9, 0, 18, 0, 9, 0];
        assert_eq!(
            colour_of_colr(&hlg),
            Some(Colour {
                matrix: Matrix::Bt2020,
                full_range: false
            })
        );
        let full_709 = [b'n', b'c', b'l', b'x', 0, 1, 0, 1, 0, 1, 0x80];
        assert_eq!(
            colour_of_colr(&full_709),
            Some(Colour {
                matrix: Matrix::Bt709,
                full_range: true
            })
        );
        let nclc = [b'n', b'c', b'l', b'c', 0, 1, 0, 1, 0, 6];
        assert_eq!(colour_of_colr(&nclc), Some(Colour::default()));
        assert_eq!(colour_of_colr(b"prof\0\0\0\0\0\0\0"), None, "ICC");
        assert_eq!(colour_of_colr(b"nclx\0\0"), None, "short");
    }

    #[test]
    fn bt2020_white_grey_and_black_are_neutral() {
        for full_range in [false, true] {
            let k = Colour {
                matrix: Matrix::Bt2020,
                full_range,
            }
            .coefficients();
            let (black, white) = if full_range { (0, 255) } else { (16, 235) };
            for (y, expected) in [(black, 0), (white, 255)] {
                let c = k.y_gain * (y - k.y_offset) + 128;
                assert_eq!((c >> 8).clamp(0, 255), expected);
            }
            // Chroma at its midpoint leaves R = G = B; the green weights are the matrix's.
            let (kr, kb) = (0.2627f64, 0.0593f64);
            let scale = if full_range {
                256.0
            } else {
                256.0 * 255.0 / 224.0
            };
            let gv = 2.0 * kr * (1.0 - kr) / (1.0 - kr - kb) * scale;
            let gu = 2.0 * kb * (1.0 - kb) / (1.0 - kr - kb) * scale;
            assert_eq!((k.gv, k.gu), (gv.round() as i32, gu.round() as i32));
            assert_eq!(k.rv, (2.0 * (1.0 - kr) * scale).round() as i32);
            assert_eq!(k.bu, (2.0 * (1.0 - kb) * scale).round() as i32);
        }
    }

    #[test]
    fn an_unreadable_sps_is_none_and_one_without_vui_the_default() {
        assert_eq!(colour_of_sps(&[0x67]), None);
        assert_eq!(colour_of_sps(&[]), None);
    }
}
