//! A deterministic byte mutator (xorshift64*; the same seed gives the same inputs).

/// Integers at the edges parsers get wrong: sizes, counts and lengths in headers.
const INTERESTING: &[u32] = &[
    0,
    1,
    2,
    7,
    8,
    16,
    127,
    128,
    255,
    256,
    4096,
    65535,
    65536,
    0x7FFF_FFFF,
    0x8000_0000,
    0xFFFF_FFFE,
    0xFFFF_FFFF,
];

/// Seeded byte-level mutations (xorshift64*: the same seed gives the same inputs).
pub struct Mutator {
    state: u64,
}

impl Mutator {
    /// A mutator whose choices follow from `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            state: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
        }
    }

    /// The next pseudo-random number.
    pub fn next_u64(&mut self) -> u64 {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// One to four mutations of `seed`, sometimes spliced with `other`, capped at `max_len`.
    pub fn mutate(&mut self, seed: &[u8], other: &[u8], max_len: usize) -> Vec<u8> {
        let mut data = seed.to_vec();
        for _ in 0..1 + self.below(4) {
            self.mutate_once(&mut data, other);
        }
        data.truncate(max_len);
        data
    }

    fn mutate_once(&mut self, data: &mut Vec<u8>, other: &[u8]) {
        let len = data.len();
        match self.below(9) {
            0 if len > 0 => {
                let at = self.below(len);
                data[at] ^= 1 << self.below(8);
            }
            1 if len > 0 => {
                let at = self.below(len);
                data[at] = self.next_u64() as u8;
            }
            2 => {
                let at = self.below(len + 1);
                let byte = self.next_u64() as u8;
                data.insert(at, byte);
            }
            3 if len > 0 => {
                let at = self.below(len);
                let end = (at + 1 + self.below(16)).min(len);
                data.drain(at..end);
            }
            4 if len >= 4 => {
                // A header field overwritten with an edge value, big-endian as MP4 and PNG
                // write them, or little-endian as WebP does.
                let at = self.below(len - 3);
                let value = INTERESTING[self.below(INTERESTING.len())];
                let bytes = if self.below(2) == 0 {
                    value.to_be_bytes()
                } else {
                    value.to_le_bytes()
                };
                data[at..at + 4].copy_from_slice(&bytes);
            }
            5 if len > 0 => {
                // A chunk repeated: repeated separators, boxes, brackets.
                let at = self.below(len);
                let end = (at + 1 + self.below(32)).min(len);
                let chunk = data[at..end].to_vec();
                for _ in 0..1 + self.below(8) {
                    data.splice(at..at, chunk.iter().copied());
                }
            }
            6 if !other.is_empty() => {
                // The head of this input, the tail of another.
                let cut = self.below(len + 1);
                let from = self.below(other.len());
                data.truncate(cut);
                data.extend_from_slice(&other[from..]);
            }
            7 if len > 0 => {
                let cut = self.below(len);
                data.truncate(cut);
            }
            _ => {
                // A multi-byte UTF-8 character or a token text parsers treat specially.
                const TOKENS: &[&str] = &[
                    "-",
                    "~",
                    "₦",
                    "€",
                    "#",
                    "@",
                    "\u{200d}",
                    "\u{202e}",
                    "é",
                    "👩‍👧",
                    "\"",
                    "{",
                    "[",
                    "\\u0000",
                    "9999999999999999999",
                    "XL",
                    " to ",
                    "k",
                    ".",
                    ",",
                ];
                let token = TOKENS[self.below(TOKENS.len())].as_bytes();
                let at = self.below(len + 1);
                data.splice(at..at, token.iter().copied());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_inputs() {
        let run = |seed| {
            let mut mutator = Mutator::new(seed);
            (0..50)
                .map(|_| mutator.mutate(b"seed input", b"other", 64))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        assert!(run(7).iter().all(|input| input.len() <= 64));
    }
}
