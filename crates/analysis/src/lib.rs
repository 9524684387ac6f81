//! Pure analysis for postlens: no AWS, no Lambda types, no I/O beyond model files.

pub mod caption;
pub mod fold;
pub mod language;
pub mod phrase_match;
pub mod products;
pub mod slop;
pub mod tags;
pub mod thumbnail;
pub mod vector;
