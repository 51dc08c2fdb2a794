//! A rough passphrase strength estimate, only to nudge: length counts most, and the
//! alphabet the characters come from. It is not a cracking model; the policy's minimum
//! length is the rule, this is advice.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strength {
    TooShort,
    Weak,
    Fair,
    Strong,
}

impl Strength {
    pub fn word(self) -> &'static str {
        match self {
            Strength::TooShort => "too short",
            Strength::Weak => "weak",
            Strength::Fair => "fair",
            Strength::Strong => "strong",
        }
    }

    /// Filled cells of a 4-cell bar.
    pub fn cells(self) -> usize {
        match self {
            Strength::TooShort => 0,
            Strength::Weak => 1,
            Strength::Fair => 2,
            Strength::Strong => 4,
        }
    }
}

/// Bits of a uniformly random string over the alphabet classes seen, minus a penalty for
/// repeated characters. Four random words (~"correct horse battery staple") come out strong.
pub fn estimate(secret: &str, min_chars: usize) -> Strength {
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() < min_chars {
        return Strength::TooShort;
    }
    let mut pool = 0u32;
    if chars.iter().any(|c| c.is_ascii_lowercase()) {
        pool += 26;
    }
    if chars.iter().any(|c| c.is_ascii_uppercase()) {
        pool += 26;
    }
    if chars.iter().any(|c| c.is_ascii_digit()) {
        pool += 10;
    }
    if chars.iter().any(|c| !c.is_ascii_alphanumeric()) {
        pool += 33;
    }
    let mut distinct = chars.clone();
    distinct.sort_unstable();
    distinct.dedup();
    let effective = (distinct.len() as f64).max(chars.len() as f64 * 0.5);
    let bits = effective * f64::from(pool.max(2)).log2();
    match bits {
        b if b < 50.0 => Strength::Weak,
        b if b < 75.0 => Strength::Fair,
        _ => Strength::Strong,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_dominates() {
        assert_eq!(estimate("short", 10), Strength::TooShort);
        assert_eq!(estimate("aaaaaaaaaa", 10), Strength::Weak);
        assert_eq!(
            estimate("correct horse battery staple", 10),
            Strength::Strong
        );
    }
}
