//! The one clock read of the project: the library takes `as_of` as an argument.

use jiff::civil::Date;

/// Today in China Standard Time (UTC+8), the default `as_of`.
pub fn today() -> Date {
    let now = jiff::Timestamp::now();
    now.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
        .date()
}
