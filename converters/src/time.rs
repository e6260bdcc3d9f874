//! Calendar arithmetic for printing and parsing Connect's Date/Time/Timestamp values in UTC
//! (Java's `java.util.Date.toString` and `Values`' ISO-8601 forms). Days ⇄ civil dates use Howard
//! Hinnant's proleptic-Gregorian algorithms.

pub(crate) const MILLIS_PER_DAY: i64 = 86_400_000;

/// (year, month 1-12, day 1-31) of a day count since 1970-01-01.
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Day count since 1970-01-01 of a civil date; months outside 1-12 roll over into years, as a
/// lenient Java calendar does.
pub(crate) fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = year + (month - 1).div_euclid(12);
    let month = (month - 1).rem_euclid(12) + 1;
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468 + (day - 1)
}

/// Splits epoch milliseconds into (days, millisecond of day).
pub(crate) fn split_millis(ms: i64) -> (i64, i64) {
    (ms.div_euclid(MILLIS_PER_DAY), ms.rem_euclid(MILLIS_PER_DAY))
}

/// `yyyy-MM-dd`.
pub(crate) fn iso_date(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// `HH:mm:ss.SSS'Z'` of a millisecond of day.
pub(crate) fn iso_time(ms_of_day: i64) -> String {
    format!(
        "{:02}:{:02}:{:02}.{:03}Z",
        ms_of_day / 3_600_000,
        ms_of_day / 60_000 % 60,
        ms_of_day / 1000 % 60,
        ms_of_day % 1000
    )
}

/// `java.util.Date.toString()` in UTC: `Thu Jan 01 00:00:00 UTC 1970`.
pub(crate) fn java_date_string(ms: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (days, of_day) = split_millis(ms);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{} {} {d:02} {:02}:{:02}:{:02} UTC {y}",
        DAYS[days.rem_euclid(7) as usize],
        MONTHS[m as usize - 1],
        of_day / 3_600_000,
        of_day / 60_000 % 60,
        of_day / 1000 % 60,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip_and_java_format() {
        for days in [-719_468, -1, 0, 1, 19_000, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m as i64, d as i64), days);
        }
        assert_eq!(days_from_civil(2024, 13, 1), days_from_civil(2025, 1, 1));
        assert_eq!(iso_date(19_000), "2022-01-08");
        assert_eq!(iso_time(45_296_789), "12:34:56.789Z");
        assert_eq!(java_date_string(0), "Thu Jan 01 00:00:00 UTC 1970");
        assert_eq!(
            java_date_string(1_700_000_000_000),
            "Tue Nov 14 22:13:20 UTC 2023"
        );
    }
}
