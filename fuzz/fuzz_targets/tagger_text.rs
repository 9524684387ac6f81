//! The auto-tagger's path without the model: product text, lexical categories, keywords.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| postlens_libfuzzer::run("tagger_text", data));
