//! Calendar arithmetic and `db.timezone`, without a date-time crate: the drivers hand over
//! civil dates and times (MySQL) or microseconds since 2000-01-01 (PostgreSQL), Connect wants
//! days, milliseconds and epoch milliseconds, and nothing else is needed.
//!
//! `db.timezone` is the zone in which the database's zone-less `DATETIME`/`TIMESTAMP WITHOUT TIME
//! ZONE` values are read and written. Only UTC and fixed offsets are supported (no zone database is
//! bundled); a named zone such as `Europe/Paris` is refused at configuration time.

use ferry_api::{ConnectError, Result};

/// Microseconds in a day.
pub(crate) const MICROS_PER_DAY: i64 = 86_400_000_000;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date `(year, month, day)` of a day count since 1970-01-01.
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// A civil date-time broken out of epoch microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Civil {
    pub(crate) year: i64,
    pub(crate) month: u32,
    pub(crate) day: u32,
    pub(crate) hour: u32,
    pub(crate) minute: u32,
    pub(crate) second: u32,
    pub(crate) micros: u32,
}

impl Civil {
    /// Breaks out epoch microseconds (already shifted to the wanted zone).
    pub(crate) fn from_micros(us: i64) -> Civil {
        let days = us.div_euclid(MICROS_PER_DAY);
        let tod = us.rem_euclid(MICROS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        let secs = tod / 1_000_000;
        Civil {
            year,
            month,
            day,
            hour: (secs / 3600) as u32,
            minute: (secs / 60 % 60) as u32,
            second: (secs % 60) as u32,
            micros: (tod % 1_000_000) as u32,
        }
    }

    /// Epoch microseconds of this civil date-time.
    pub(crate) fn to_micros(self) -> i64 {
        days_from_civil(self.year, self.month, self.day) * MICROS_PER_DAY
            + (self.hour as i64 * 3600 + self.minute as i64 * 60 + self.second as i64) * 1_000_000
            + self.micros as i64
    }

    /// `YYYY-MM-DD`.
    pub(crate) fn date_text(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    /// `HH:MM:SS.ffffff`.
    pub(crate) fn time_text(&self) -> String {
        format!(
            "{:02}:{:02}:{:02}.{:06}",
            self.hour, self.minute, self.second, self.micros
        )
    }
}

/// `db.timezone`: a fixed offset from UTC in seconds (east positive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct DbTimeZone {
    offset_secs: i32,
}

impl DbTimeZone {
    /// UTC.
    pub(crate) const UTC: DbTimeZone = DbTimeZone { offset_secs: 0 };

    /// Parses `UTC`, `GMT`, `Z`, `+HH:MM`, `-HHMM`, `UTC+HH:MM`, `GMT-H`.
    pub(crate) fn parse(s: &str) -> Result<DbTimeZone> {
        let t = s.trim();
        let bad = || {
            ConnectError::config(format!(
                "Invalid value {t} for configuration db.timezone: only UTC and fixed offsets \
                 such as +02:00 are supported"
            ))
        };
        let rest = ["UTC", "GMT", "Etc/UTC", "Etc/GMT", "Z"]
            .iter()
            .find_map(|p| t.strip_prefix(p))
            .unwrap_or(t);
        if rest.is_empty() {
            return Ok(DbTimeZone::UTC);
        }
        let (sign, digits) = match rest.as_bytes()[0] {
            b'+' => (1, &rest[1..]),
            b'-' => (-1, &rest[1..]),
            _ => return Err(bad()),
        };
        let (h, m) = match digits.split_once(':') {
            Some((h, m)) => (h, m),
            None if digits.len() == 4 => digits.split_at(2),
            None => (digits, "0"),
        };
        let h: i32 = h.parse().map_err(|_| bad())?;
        let m: i32 = m.parse().map_err(|_| bad())?;
        if h > 18 || m > 59 {
            return Err(bad());
        }
        Ok(DbTimeZone {
            offset_secs: sign * (h * 3600 + m * 60),
        })
    }

    /// The offset as `+HH:MM`, for session time zone statements.
    pub(crate) fn offset_text(self) -> String {
        let sign = if self.offset_secs < 0 { '-' } else { '+' };
        let a = self.offset_secs.unsigned_abs();
        format!("{sign}{:02}:{:02}", a / 3600, a / 60 % 60)
    }

    /// Wall-clock microseconds in this zone → UTC epoch microseconds.
    pub(crate) fn wall_to_utc(self, wall_us: i64) -> i64 {
        wall_us - self.offset_secs as i64 * 1_000_000
    }

    /// UTC epoch microseconds → wall-clock microseconds in this zone.
    pub(crate) fn utc_to_wall(self, utc_us: i64) -> i64 {
        utc_us + self.offset_secs as i64 * 1_000_000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trips() {
        for (y, m, d, days) in [
            (1970, 1, 1, 0),
            (2000, 1, 1, 10_957),
            (1969, 12, 31, -1),
            (2024, 2, 29, 19_782),
            (1, 1, 1, -719_162),
        ] {
            assert_eq!(days_from_civil(y, m, d), days);
            assert_eq!(civil_from_days(days), (y, m, d));
        }
        let c = Civil::from_micros(1_700_000_000_123_456);
        assert_eq!(
            (c.date_text(), c.time_text()),
            ("2023-11-14".to_owned(), "22:13:20.123456".to_owned())
        );
        assert_eq!(c.to_micros(), 1_700_000_000_123_456);
        assert_eq!(Civil::from_micros(-1).time_text(), "23:59:59.999999");
    }

    #[test]
    fn time_zones() {
        assert_eq!(DbTimeZone::parse("UTC").unwrap(), DbTimeZone::UTC);
        let plus2 = DbTimeZone::parse("+02:00").unwrap();
        assert_eq!(plus2.wall_to_utc(7_200_000_000), 0);
        assert_eq!(plus2.utc_to_wall(0), 7_200_000_000);
        assert_eq!(plus2.offset_text(), "+02:00");
        assert_eq!(DbTimeZone::UTC.offset_text(), "+00:00");
        assert_eq!(
            DbTimeZone::parse("GMT-0530").unwrap(),
            DbTimeZone {
                offset_secs: -(5 * 3600 + 30 * 60)
            }
        );
        let err = DbTimeZone::parse("Europe/Paris").unwrap_err();
        assert!(err.message().contains("db.timezone"), "{err}");
    }
}
