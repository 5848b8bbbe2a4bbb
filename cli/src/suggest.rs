//! "Did you mean": the closest names by edit distance.

/// Levenshtein distance over chars.
pub fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Up to `max` candidates closest to `input` (case-insensitive), best first;
/// a candidate containing the input (or contained in it) ranks first.
pub fn closest<'a>(
    input: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    max: usize,
) -> Vec<&'a str> {
    let needle = input.to_ascii_lowercase();
    let mut scored: Vec<(usize, &str)> = candidates
        .into_iter()
        .map(|c| {
            let lc = c.to_ascii_lowercase();
            let d = distance(&needle, &lc);
            let contained = !needle.is_empty() && (lc.contains(&needle) || needle.contains(&lc));
            (if contained { d.min(2) } else { d }, c)
        })
        .collect();
    scored.sort_by_key(|(d, c)| (*d, c.len()));
    let limit = (needle.chars().count() / 2).max(3);
    scored
        .into_iter()
        .filter(|(d, _)| *d <= limit)
        .take(max)
        .map(|(_, c)| c)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names() {
        assert_eq!(distance("kitten", "sitting"), 3);
        let names = ["aspect_ratio", "resolution", "seed", "prompt"];
        assert_eq!(closest("aspect_ration", names, 2)[0], "aspect_ratio");
        assert_eq!(closest("promt", names, 1), vec!["prompt"]);
        assert!(closest("zzzzzzzzzzzzzzzzzz", names, 3).is_empty());
    }
}
