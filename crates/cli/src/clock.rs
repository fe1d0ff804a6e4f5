//! The one clock read of the project: the library takes `as_of` as an argument, and the
//! service asks its [`Clock`](policy_match_server::Clock), which is this one.

use jiff::civil::Date;

/// Today in China Standard Time (UTC+8), the default `as_of`.
pub fn today() -> Date {
    let now = jiff::Timestamp::now();
    now.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
        .date()
}

/// The system's clock, for `serve`: today as above for a request without `as_of`, and
/// the time a catalog was loaded.
pub struct SystemClock;

impl policy_match_server::Clock for SystemClock {
    fn today(&self) -> Date {
        today()
    }

    fn unix_seconds(&self) -> f64 {
        jiff::Timestamp::now().as_millisecond() as f64 / 1000.0
    }
}
