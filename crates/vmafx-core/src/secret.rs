//! Comparing a secret someone sent with the one expected, without telling them by the time
//! it takes how much of it was right.

/// Whether `given` equals `expected`, in time that depends on their lengths only (a token's
/// length is no secret: every token vmafx makes has the same).
pub fn secrets_equal(given: &[u8], expected: &[u8]) -> bool {
    if given.len() != expected.len() {
        return false;
    }
    let diff = given.iter().zip(expected).fold(0u8, |acc, (a, b)| std::hint::black_box(acc | (a ^ b)));
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_only_when_every_byte_is() {
        assert!(secrets_equal(b"Bearer abc", b"Bearer abc"));
        assert!(!secrets_equal(b"Bearer abd", b"Bearer abc"));
        assert!(!secrets_equal(b"Bearer ab", b"Bearer abc"));
        assert!(!secrets_equal(b"", b"x"));
        assert!(secrets_equal(b"", b""));
    }
}
