//! Still images: JPEG (both decoders), PNG, WebP and HEIC (heic-rs, tile by tile), orientation
//! included, then the quality measures and crop a thumbnail takes.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| postlens_libfuzzer::run("image", data));
