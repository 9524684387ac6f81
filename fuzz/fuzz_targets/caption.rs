//! The caption parser (prices, sizes, colours, contacts, language) on any text, per market.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| postlens_libfuzzer::run("caption", data));
