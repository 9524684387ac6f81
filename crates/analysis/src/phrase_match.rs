//! Greedy longest-first phrase matching over a sequence of words: the one scan behind the
//! slop scorer's phrase lists and the tagger's product terms.

/// Scans `words` positions left to right. At each position the longest length `n` (at most
/// `max_words`, and not past the end) for which `match_at(start, n)` answers `Some` wins; the
/// scan goes on after it, or one word on when nothing matched. Answers `(start, n, value)`,
/// non-overlapping, in order.
pub fn longest_matches<T>(
    words: usize,
    max_words: usize,
    mut match_at: impl FnMut(usize, usize) -> Option<T>,
) -> Vec<(usize, usize, T)> {
    let mut found = Vec::new();
    let mut start = 0;
    while start < words {
        let longest = (1..=max_words.min(words - start))
            .rev()
            .find_map(|n| match_at(start, n).map(|value| (n, value)));
        match longest {
            Some((n, value)) => {
                found.push((start, n, value));
                start += n;
            }
            None => start += 1,
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_match_wins_and_matches_do_not_overlap() {
        let words = ["a", "b", "c", "a", "b", "d"];
        let phrases = [
            vec!["a"],
            vec!["a", "b"],
            vec!["a", "b", "c"],
            vec!["c", "a"],
        ];
        let found = longest_matches(words.len(), 3, |start, n| {
            phrases
                .iter()
                .position(|p| p.len() == n && p[..] == words[start..start + n])
        });
        let spans: Vec<(usize, usize)> = found.iter().map(|&(s, n, _)| (s, n)).collect();
        // "a b c" beats "a b" and "a" at 0, so "c a" (2..4) is never tried; then "a b" at 3.
        assert_eq!(spans, vec![(0, 3), (3, 2)]);
    }

    #[test]
    fn nothing_matches_in_no_words() {
        assert!(longest_matches(0, 4, |_, _| Some(())).is_empty());
        assert!(longest_matches(3, 0, |_, _| Some(())).is_empty());
    }
}
