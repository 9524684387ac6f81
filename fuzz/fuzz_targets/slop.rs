//! The slop scorer's text path (segmentation, every metric without the models, spans).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| postlens_libfuzzer::run("slop", data));
