//! `heic-grid IN.png OUT.heic QUALITY`: IN encoded as a grid of 512x512 tiles (heifer).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, input, output, quality] = args.as_slice() else {
        return Err("usage: heic-grid IN.png OUT.heic QUALITY".into());
    };
    let rgb = image::open(input)?.to_rgb8();
    let options = heifer::EncodeOptions {
        quality: quality.parse()?,
        max_threads: 2,
    };
    let heic = heifer::encode_rgb8(rgb.width(), rgb.height(), rgb.as_raw(), &options)?;
    std::fs::write(output, heic)?;
    Ok(())
}
