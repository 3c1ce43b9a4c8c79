//! Durations as operators write them in flags and environment variables: `90`, `90s`, `15m`,
//! `2h`, `7d`.

use std::time::Duration;

/// Parses `90` (seconds), `90s`, `15m`, `2h` or `7d`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let (number, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: u64 = number.parse().map_err(|_| format!("`{s}` is not a duration like 30s, 10m, 2h or 7d"))?;
    let per = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("`{s}`: unknown unit `{unit}`; use s, m, h or d")),
    };
    n.checked_mul(per).map(Duration::from_secs).ok_or_else(|| format!("`{s}` is too long"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("15m").unwrap(), Duration::from_secs(900));
        assert_eq!(parse_duration("7d").unwrap(), Duration::from_secs(7 * 86_400));
        assert!(parse_duration("5 weeks").unwrap_err().contains("unknown unit"));
        assert!(parse_duration("m").unwrap_err().contains("not a duration"));
    }
}
