//! The SQS/SNS/claim-check envelope decoder on any record body.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| postlens_libfuzzer::run("envelope", data));
