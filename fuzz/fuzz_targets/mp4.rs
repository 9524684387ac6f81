//! MP4/MOV demux, the sample-table guard, and H.264 (openh264) or HEVC (rust_h265) decoding:
//! the whole path a thumbnail takes from a video's bytes to RGB frames.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| postlens_libfuzzer::run("mp4", data));
