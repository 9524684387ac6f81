//! HEIC stills (the iPhone's default), by `heic-rs`.
//!
//! HEVC has nothing like JPEG's DCT scaling, but a phone stores a HEIC as a grid of small
//! coded tiles (512x512 on iPhones), each an independent picture. A grid whose long side is
//! at least twice [`MediaLimits::still_long_side`] is therefore decoded one tile at a time:
//! each tile is converted to RGB and box-averaged by 2, 4 or 8 straight into the reduced
//! picture, so memory holds the file, one tile and the reduced picture. A 48 Mpx "HEIF Max"
//! photo (8064x6048) becomes 2016x1512 (9 MB) without its 146 MB of RGB ever existing; 12
//! and 24 Mpx photos are halved. A single coded picture, or a grid whose tiles the factor
//! does not divide, is decoded whole, up to [`MediaLimits::max_heic_pixels`].
//!
//! The tile's RGB is converted on its own, so chroma at a tile's edge is not interpolated
//! from its neighbour as a whole decode would; after the box average the difference is
//! below a level on the fixtures (tests/heic.rs compares both paths with libheif).

use heic_rs::context::Context;
use heic_rs::hevc::{self, Frame};
use heic_rs::props::{ItemProps, Transform};
use heic_rs::{Grid, PixelLayout};
use image::RgbImage;

use crate::still::{check_source, fit_long_side};
use crate::{MediaError, MediaLimits, RgbFrame};

/// Whether `bytes` start with an ISO-BMFF `ftyp` naming an HEVC-coded HEIF brand (major or
/// compatible). `mif1` alone is also AVIF's, which `heic-rs` refuses by name.
pub(crate) fn is_heic(bytes: &[u8]) -> bool {
    const BRANDS: [&[u8; 4]; 7] = [
        b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1",
    ];
    let Some(size) = bytes
        .get(..4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    else {
        return false;
    };
    if bytes.get(4..8) != Some(b"ftyp") || size < 16 {
        return false;
    }
    let body = bytes.get(8..size as usize).unwrap_or_default();
    // Major brand, minor version, then compatible brands.
    let major = body.get(..4).into_iter();
    let compatible = body.get(8..).unwrap_or_default().chunks_exact(4);
    major
        .chain(compatible)
        .any(|brand| BRANDS.iter().any(|known| brand == &known[..]))
        && !body.chunks_exact(4).any(|brand| brand == b"avif")
}

/// A HEIC upright and brought to `still_long_side` (see the module comment).
pub(crate) fn decode_heic(bytes: &[u8], limits: &MediaLimits) -> Result<RgbFrame, MediaError> {
    let info = heic_rs::probe(bytes).map_err(|e| heic_error(e, (0, 0)))?;
    let declared = (u64::from(info.width), u64::from(info.height));
    check_source(declared.0, declared.1, bytes.len(), limits)?;
    let coded = u64::from(info.coded_width) * u64::from(info.coded_height);
    // heic-rs has no `unsafe`, but a panic in it must stay one corrupt file.
    let rgb = std::panic::catch_unwind(|| decode_upright(bytes, limits, declared, coded))
        .map_err(|_| {
            MediaError::Corrupt("the HEIC decoder could not read this file".to_owned())
        })??;
    let rgb = fit_long_side(rgb, limits.still_long_side)?;
    Ok(RgbFrame {
        width: rgb.width(),
        height: rgb.height(),
        pixels: rgb.into_raw(),
        time_ms: 0,
        source_size: (info.width, info.height),
    })
}

/// The primary picture with its transforms applied: reduced tile by tile where it is a grid
/// that allows it, else whole.
fn decode_upright(
    bytes: &[u8],
    limits: &MediaLimits,
    declared: (u64, u64),
    coded: u64,
) -> Result<RgbImage, MediaError> {
    let error = |e| heic_error(e, declared);
    let context = Context::open(bytes).map_err(error)?;
    let primary = context.meta.primary;
    let props = context.props(primary).map_err(error)?;
    if let Some((grid, tiles)) = context.grid(primary).map_err(error)? {
        let tile_size = tile_size(&context, &grid, &tiles).map_err(error)?;
        if let Some(factor) = reduction(&grid, tile_size, limits.still_long_side) {
            let reduced =
                decode_grid_reduced(&context, &props, (&grid, &tiles), tile_size, factor, limits)
                    .map_err(error)?;
            let upright =
                heic_rs::transform::apply_all(reduced, &scaled(&props.transforms, factor))
                    .map_err(error)?;
            return rgb_image(upright);
        }
    }
    let (width, height) = declared;
    if width * height > limits.max_heic_pixels || coded > limits.max_heic_pixels {
        return Err(MediaError::ResolutionTooLarge {
            width,
            height,
            limit: limits.max_heic_pixels,
        });
    }
    let options = heic_rs::DecodeOptions::default()
        .with_layout(PixelLayout::Rgb8)
        .with_max_pixels(Some(limits.max_heic_pixels))
        .with_transforms(true)
        .with_alpha(false)
        .with_threads(Some(1));
    rgb_image(heic_rs::decode(bytes, &options).map_err(error)?)
}

fn rgb_image(image: heic_rs::Image) -> Result<RgbImage, MediaError> {
    RgbImage::from_raw(image.width, image.height, image.data)
        .ok_or_else(|| MediaError::Corrupt("HEIC samples do not fill the image".to_owned()))
}

/// The tiles' common size, from the first tile's `ispe`; every tile is checked against it
/// before it is decoded, and the tiles must cover the grid's output.
fn tile_size(context: &Context<'_>, grid: &Grid, tiles: &[u32]) -> heic_rs::Result<(u32, u32)> {
    let first = tiles
        .first()
        .ok_or(heic_rs::Error::Malformed("grid lists no tiles"))?;
    let ispe = context
        .props(*first)?
        .ispe
        .ok_or(heic_rs::Error::MissingBox("ispe on a grid tile"))?;
    let covers = |tiles: u32, side: u32, output: u32| {
        u64::from(tiles) * u64::from(side) >= u64::from(output)
    };
    if ispe.width == 0
        || ispe.height == 0
        || !covers(grid.columns, ispe.width, grid.output_width)
        || !covers(grid.rows, ispe.height, grid.output_height)
    {
        return Err(heic_rs::Error::Malformed(
            "grid tiles do not cover its output",
        ));
    }
    Ok((ispe.width, ispe.height))
}

/// The largest of 8, 4 and 2 that divides the tiles and leaves the grid's long side at least
/// `long_side`; `None` when even 2 would not.
fn reduction(grid: &Grid, (tile_width, tile_height): (u32, u32), long_side: u32) -> Option<u32> {
    let long = grid.output_width.max(grid.output_height);
    [8, 4, 2].into_iter().find(|&factor| {
        long / factor >= long_side.max(1) && tile_width % factor == 0 && tile_height % factor == 0
    })
}

/// The grid decoded tile by tile, each tile box-averaged by `factor` into its place.
fn decode_grid_reduced(
    context: &Context<'_>,
    props: &ItemProps<'_>,
    (grid, tiles): (&Grid, &[u32]),
    (tile_width, tile_height): (u32, u32),
    factor: u32,
    limits: &MediaLimits,
) -> heic_rs::Result<heic_rs::Image> {
    let (out_width, out_height) = (grid.output_width, grid.output_height);
    let (width, height) = (out_width.div_ceil(factor), out_height.div_ceil(factor));
    let mut reduced =
        heic_rs::Image::zeroed(width, height, PixelLayout::Rgb8, limits.max_source_pixels)?;
    let nclx = heic_rs::decode::effective_nclx(props);
    let columns = grid.columns as usize;
    for (index, &tile) in tiles.iter().enumerate() {
        let frame = decode_tile(context, tile, (tile_width, tile_height), limits)?;
        let rgb = heic_rs::color::convert(
            &frame,
            None,
            nclx,
            PixelLayout::Rgb8,
            limits.max_heic_pixels,
            Some(1),
        )?;
        let origin = (
            (index % columns) as u32 * tile_width,
            (index / columns) as u32 * tile_height,
        );
        average_into(&mut reduced, &rgb, origin, factor, (out_width, out_height));
    }
    Ok(reduced)
}

/// One tile, refused unless its parameter sets give the grid's tile size: the decoder
/// allocates what the SPS says, so a tile may not claim more than its `ispe`.
fn decode_tile(
    context: &Context<'_>,
    tile: u32,
    size: (u32, u32),
    limits: &MediaLimits,
) -> heic_rs::Result<Frame> {
    let props = context.props(tile)?;
    let hvcc = props
        .hvcc
        .as_ref()
        .ok_or(heic_rs::Error::MissingBox("hvcC"))?;
    let parameter_sets = hvcc.parameter_sets();
    let info = hevc::probe(&parameter_sets)?;
    if (info.width, info.height) != size
        || u64::from(size.0) * u64::from(size.1) > limits.max_heic_pixels
    {
        return Err(heic_rs::Error::Malformed(
            "a grid tile differs from the others",
        ));
    }
    let data = context.item_data(tile)?;
    let units = hvcc.split_nals(&data)?;
    let frame = hevc::decode_still(&parameter_sets, &units)?;
    if (frame.width, frame.height) != size {
        return Err(heic_rs::Error::Malformed(
            "a grid tile differs from the others",
        ));
    }
    Ok(frame)
}

/// Box average of each `factor` x `factor` block of `tile` (placed at `origin` in the full
/// picture) into `reduced`; blocks cut by the picture's right or bottom edge average the
/// pixels they have. `factor` divides the tile, so no block spans two tiles.
fn average_into(
    reduced: &mut heic_rs::Image,
    tile: &heic_rs::Image,
    (left, top): (u32, u32),
    factor: u32,
    (out_width, out_height): (u32, u32),
) {
    let (tile_width, reduced_width) = (tile.width as usize, reduced.width as usize);
    let visible_width = tile.width.min(out_width.saturating_sub(left));
    let visible_height = tile.height.min(out_height.saturating_sub(top));
    for block_y in 0..visible_height.div_ceil(factor) {
        let rows = (block_y * factor)..((block_y + 1) * factor).min(visible_height);
        for block_x in 0..visible_width.div_ceil(factor) {
            let columns = (block_x * factor)..((block_x + 1) * factor).min(visible_width);
            let mut sum = [0u32; 3];
            for y in rows.clone() {
                let row = y as usize * tile_width;
                for x in columns.clone() {
                    let at = (row + x as usize) * 3;
                    for (channel, total) in sum.iter_mut().enumerate() {
                        *total += u32::from(tile.data[at + channel]);
                    }
                }
            }
            let count = rows.len() as u32 * columns.len() as u32;
            let target = ((top / factor + block_y) as usize * reduced_width
                + (left / factor + block_x) as usize)
                * 3;
            for (channel, total) in sum.iter().enumerate() {
                reduced.data[target + channel] = ((total + count / 2) / count) as u8;
            }
        }
    }
}

/// The item's transforms for a picture reduced by `factor`: a clean aperture's rationals
/// shrink with it; rotations and mirrors are unchanged.
fn scaled(transforms: &[Transform], factor: u32) -> Vec<Transform> {
    transforms
        .iter()
        .map(|transform| match *transform {
            Transform::Crop(mut clap) => {
                clap.width.1 = clap.width.1.saturating_mul(factor);
                clap.height.1 = clap.height.1.saturating_mul(factor);
                clap.horiz_off.1 = clap.horiz_off.1.saturating_mul(factor);
                clap.vert_off.1 = clap.vert_off.1.saturating_mul(factor);
                Transform::Crop(clap)
            }
            other => other,
        })
        .collect()
}

/// `declared` is the image's size as probed: a pixel limit hit inside the decode (a tile, an
/// auxiliary image) is reported against it.
fn heic_error(error: heic_rs::Error, (width, height): (u64, u64)) -> MediaError {
    match error {
        heic_rs::Error::PixelLimit { max_pixels, .. } => MediaError::ResolutionTooLarge {
            width,
            height,
            limit: max_pixels,
        },
        heic_rs::Error::Unsupported(what) => {
            MediaError::UnsupportedImage(format!("HEIF with {what}"))
        }
        other => MediaError::Corrupt(format!("HEIC: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(output_width: u32, output_height: u32) -> Grid {
        heic_rs::grid::parse(&[
            0,
            0,
            0,
            0,
            (output_width >> 8) as u8,
            output_width as u8,
            (output_height >> 8) as u8,
            output_height as u8,
        ])
        .expect("grid")
    }

    #[test]
    fn the_reduction_keeps_the_long_side_and_divides_the_tiles() {
        let tiles = (512, 512);
        assert_eq!(reduction(&grid(8064, 6048), tiles, 1920), Some(4));
        assert_eq!(reduction(&grid(5712, 4284), tiles, 1920), Some(2));
        assert_eq!(reduction(&grid(4032, 3024), tiles, 1920), Some(2));
        assert_eq!(reduction(&grid(3000, 2000), tiles, 1920), None);
        assert_eq!(reduction(&grid(8064, 6048), (510, 510), 1920), Some(2));
        assert_eq!(reduction(&grid(8064, 6048), (511, 511), 1920), None);
    }

    fn image(width: u32, height: u32, pixel: impl Fn(u32, u32) -> [u8; 3]) -> heic_rs::Image {
        let mut image =
            heic_rs::Image::zeroed(width, height, PixelLayout::Rgb8, u64::MAX).expect("image");
        for y in 0..height {
            for x in 0..width {
                let at = ((y * width + x) * 3) as usize;
                image.data[at..at + 3].copy_from_slice(&pixel(x, y));
            }
        }
        image
    }

    #[test]
    fn a_tile_cut_by_the_picture_edge_averages_only_the_pixels_it_shows() {
        // A 4x4 tile at (4, 0) of a 7x3 picture: its visible part is 3x3.
        let tile = image(4, 4, |x, y| [(x * 10) as u8, (y * 10) as u8, 200]);
        let mut reduced = image(4, 2, |_, _| [0, 0, 0]);
        average_into(&mut reduced, &tile, (4, 0), 2, (7, 3));
        let pixel = |x: usize, y: usize| &reduced.data[(y * 4 + x) * 3..(y * 4 + x) * 3 + 3];
        assert_eq!(pixel(2, 0), [5, 5, 200], "a full 2x2 block");
        assert_eq!(pixel(3, 0), [20, 5, 200], "one column left: x = 2");
        assert_eq!(pixel(2, 1), [5, 20, 200], "one row left: y = 2");
        assert_eq!(pixel(3, 1), [20, 20, 200], "one pixel");
        assert_eq!(pixel(0, 0), [0, 0, 0], "another tile's place is untouched");
    }

    #[test]
    fn a_clean_aperture_shrinks_with_the_picture() {
        let clap = heic_rs::props::simple::Clap {
            width: (4000, 1),
            height: (3000, 1),
            horiz_off: (-8, 1),
            vert_off: (0, 1),
        };
        let transforms = [
            Transform::Crop(clap),
            Transform::Rotate(heic_rs::Rotation::Ccw90),
        ];
        let scaled = scaled(&transforms, 4);
        let Transform::Crop(small) = scaled[0] else {
            panic!("crop first")
        };
        let rect = heic_rs::transform::crop_rect(2016, 1512, small).expect("inside");
        // At full size (8064x6048) the same box selects (2024, 1524, 4000, 3000).
        assert_eq!(rect, (506, 381, 1000, 750));
        assert_eq!(scaled[1], transforms[1]);
    }
}
