//! "Did you mean …?": the nearest known name to a misspelt one.

/// The candidate nearest to `input`, if one is near enough to be a likely typo.
///
/// In order: a case-insensitive exact match; a candidate whose last
/// `/`-separated part equals the input (`zurich` → `Europe/Zurich`); the
/// candidate with the smallest edit distance, if that distance is at most a
/// third of the input's length (and at least 1, at most 4 edits).
pub fn nearest<'a, I>(input: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let lower = input.to_lowercase();
    let underscored = lower.replace(' ', "_");
    let length = lower.chars().count();
    let limit = (input.chars().count() / 3).clamp(1, 4);
    let mut best: Option<(usize, &'a str)> = None;
    let mut by_last_part = None;
    for candidate in candidates {
        let cand_lower = candidate.to_lowercase();
        if cand_lower == lower {
            return Some(candidate);
        }
        if by_last_part.is_none()
            && cand_lower
                .rsplit('/')
                .next()
                .is_some_and(|last| last == underscored)
        {
            by_last_part = Some(candidate);
        }
        // The edit distance is at least the difference in length: skip the
        // (quadratic) computation for candidates that cannot be near enough.
        if cand_lower.chars().count().abs_diff(length) > limit {
            continue;
        }
        let distance = strsim::damerau_levenshtein(&lower, &cand_lower);
        if best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    if by_last_part.is_some() {
        return by_last_part;
    }
    best.filter(|&(d, _)| d <= limit).map(|(_, c)| c)
}

/// `did you mean `x`?` for the nearest candidate, if any.
pub fn did_you_mean<'a, I>(input: &str, candidates: I) -> Option<String>
where
    I: IntoIterator<Item = &'a str>,
{
    nearest(input, candidates).map(|c| format!("did you mean `{c}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let slugs = ["women", "elections", "civil-society", "Europe/Zurich"];
        let cases = [
            ("womens", Some("women")),
            ("Women", Some("women")),
            ("electons", Some("elections")),
            ("civil_society", Some("civil-society")),
            ("zurich", Some("Europe/Zurich")),
            ("europe/zurich", Some("Europe/Zurich")),
            ("torture", None),
            ("w", None),
        ];
        for (input, expected) in cases {
            assert_eq!(nearest(input, slugs), expected, "{input}");
        }
    }
}
