//! Durations: a whole number with a unit, `500ms`, `30s`, `5m`, `1h`; at most a year.

use std::time::Duration;

/// The longest duration any setting accepts (a year): longer ones are mistakes, and
/// would overflow the clock arithmetic of timers and cookies.
pub const MAX_DURATION: Duration = Duration::from_secs(365 * 24 * 3600);

/// Parses `<whole number><unit>` with unit `ms`, `s`, `m` or `h` (spaces around are
/// allowed); `None` for anything else.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (digits, unit) = text.split_at(split);
    let n: u64 = digits.parse().ok()?;
    let millis = match unit.trim() {
        "ms" => n,
        "s" => n.checked_mul(1000)?,
        "m" => n.checked_mul(60_000)?,
        "h" => n.checked_mul(3_600_000)?,
        _ => return None,
    };
    Some(Duration::from_millis(millis))
}

/// Why `value` is not an acceptable duration, if it is not: longer than
/// [`MAX_DURATION`], or zero where `nonzero`. Reads after the setting's name.
pub fn duration_problem(value: Duration, nonzero: bool) -> Option<String> {
    if nonzero && value.is_zero() {
        return Some("must be longer than zero".into());
    }
    (value > MAX_DURATION).then(|| {
        format!(
            "is {} s; more than a year ({} s) is not accepted",
            value.as_secs(),
            MAX_DURATION.as_secs()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_need_a_unit_and_stay_under_a_year() {
        assert_eq!(parse_duration("30s"), Some(Duration::from_secs(30)));
        assert_eq!(parse_duration(" 5m "), Some(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        for bad in ["30", "s", "1.5s", "3d", "99999999999999999999h"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
        assert_eq!(duration_problem(Duration::from_secs(1), true), None);
        assert!(duration_problem(Duration::ZERO, true).is_some());
        assert_eq!(duration_problem(Duration::ZERO, false), None);
        assert!(duration_problem(parse_duration("9000h").unwrap(), false).is_some());
    }
}
