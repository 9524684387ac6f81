//! A decoded picture.

/// An 8-bit RGB picture, row-major, no padding.
#[derive(Clone)]
pub struct RgbFrame {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<u8>,
    /// Presentation time in the video; 0 for still images.
    pub time_ms: u64,
}

impl std::fmt::Debug for RgbFrame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "RgbFrame({}x{} at {} ms)",
            self.width, self.height, self.time_ms
        )
    }
}

impl RgbFrame {
    /// BT.601 luma, the plane the quality measures read.
    pub fn luma(&self) -> Vec<u8> {
        self.pixels
            .chunks_exact(3)
            .map(|p| ((77 * p[0] as u32 + 150 * p[1] as u32 + 29 * p[2] as u32) >> 8) as u8)
            .collect()
    }
}
