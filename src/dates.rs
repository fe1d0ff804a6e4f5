//! Civil dates as day numbers, the form dates take inside rhai scripts.
//!
//! Days since 1970-01-01 (proleptic Gregorian), so that comparisons and differences
//! are plain integer operations.

use jiff::civil::Date;

/// Days since 1970-01-01.
pub fn to_days(d: Date) -> i64 {
    days_from_civil(
        i64::from(d.year()),
        i64::from(d.month()),
        i64::from(d.day()),
    )
}

/// The civil date of a day number, if it is within the years jiff supports.
pub fn from_days(days: i64) -> Option<Date> {
    let (y, m, d) = civil_from_days(days)?;
    Date::new(i16::try_from(y).ok()?, m as i8, d as i8).ok()
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> Option<(i64, i64, i64)> {
    let z = z.checked_add(719_468)?;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    Some((y, m, d))
}

/// Parses `YYYY-MM-DD` strictly: ten characters, a valid civil date.
pub fn parse_date(s: &str) -> Option<Date> {
    if s.len() != 10 {
        return None;
    }
    s.parse::<Date>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn day_numbers_round_trip() {
        assert_eq!(to_days(date(1970, 1, 1)), 0);
        assert_eq!(to_days(date(2000, 3, 1)), 11_017);
        for d in [
            date(1900, 2, 28),
            date(2024, 2, 29),
            date(2027, 12, 31),
            date(1969, 12, 31),
        ] {
            assert_eq!(from_days(to_days(d)), Some(d));
        }
    }
}
