//! Calendar arithmetic and `db.timezone`: the drivers hand over
//! civil dates and times (MySQL) or microseconds since 2000-01-01 (PostgreSQL), Connect wants
//! days, milliseconds and epoch milliseconds; the calendar arithmetic is done here, zone rules come from `jiff`.
//!
//! `db.timezone` is the zone in which the database's zone-less `DATETIME`/`TIMESTAMP WITHOUT TIME
//! ZONE` values are read and written: UTC, a fixed offset, or a tz database name such as
//! `Europe/Paris` whose offset follows daylight saving time (rules from the system's
//! `/usr/share/zoneinfo`, or `TZDIR`, through `jiff`).

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
        text_of(|out| self.write_date(out))
    }

    /// `HH:MM:SS.ffffff`.
    pub(crate) fn time_text(&self) -> String {
        text_of(|out| self.write_time(out))
    }

    /// Appends `YYYY-MM-DD` (a year outside 0..=9999 as `{:04}` prints it). Written digit by
    /// digit: the sinks render a date per timestamp cell of every row.
    pub(crate) fn write_date(&self, out: &mut Vec<u8>) {
        match u64::try_from(self.year) {
            Ok(y) if y <= 9999 => push_padded::<4>(out, y),
            _ => {
                use std::io::Write;
                write!(out, "{:04}", self.year).expect("write to Vec");
            }
        }
        out.push(b'-');
        push_padded::<2>(out, self.month.into());
        out.push(b'-');
        push_padded::<2>(out, self.day.into());
    }

    /// Appends `HH:MM:SS.ffffff`.
    pub(crate) fn write_time(&self, out: &mut Vec<u8>) {
        push_padded::<2>(out, self.hour.into());
        out.push(b':');
        push_padded::<2>(out, self.minute.into());
        out.push(b':');
        push_padded::<2>(out, self.second.into());
        out.push(b'.');
        push_padded::<6>(out, self.micros.into());
    }
}

/// The text a writer into bytes produces (the writers only write ASCII).
fn text_of(write: impl FnOnce(&mut Vec<u8>)) -> String {
    let mut out = Vec::with_capacity(16);
    write(&mut out);
    String::from_utf8(out).expect("ASCII")
}

/// Appends `n` in decimal, zero-padded to at least `W` digits. The width is a constant, so the
/// usual case (`n` fits `W` digits) appends one fixed-size array, with no `memcpy` call for a
/// couple of bytes: timestamps are rendered seven fields at a time for every row.
fn push_padded<const W: usize>(out: &mut Vec<u8>, n: u64) {
    let mut digits = [b'0'; W];
    let mut rest = n;
    for d in digits.iter_mut().rev() {
        *d = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    if rest > 0 {
        // Wider than `W`: the leading digits first.
        out.extend_from_slice(itoa::Buffer::new().format(rest).as_bytes());
    }
    out.extend_from_slice(&digits);
}

/// `db.timezone`: UTC, a fixed offset, or a named zone of the tz database (`Europe/Paris`) whose
/// offset follows daylight saving time.
///
/// Copy, because it is passed by value into every driver conversion: a named zone points at its
/// interned rules (one per distinct name for the life of the process, see [`intern`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DbTimeZone {
    /// A fixed offset from UTC in seconds (east positive).
    Fixed(i32),
    /// A zone with rules.
    Named(&'static NamedZone),
}

impl Default for DbTimeZone {
    fn default() -> Self {
        DbTimeZone::UTC
    }
}

/// A tz database zone: its configured name and its rules.
#[derive(Debug)]
pub(crate) struct NamedZone {
    name: String,
    rules: jiff::tz::TimeZone,
}

impl PartialEq for NamedZone {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}
impl Eq for NamedZone {}

/// The interned zone named `name`, loading its rules from the system tz database on first use.
/// Interning bounds the memory to the zones ever configured (a few hundred names exist at most).
fn intern(name: &str) -> std::result::Result<&'static NamedZone, String> {
    static ZONES: std::sync::Mutex<Vec<&'static NamedZone>> = std::sync::Mutex::new(Vec::new());
    let mut zones = ZONES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(z) = zones.iter().find(|z| z.name == name) {
        return Ok(z);
    }
    let rules = jiff::tz::TimeZone::get(name).map_err(|e| e.to_string())?;
    let zone: &'static NamedZone = Box::leak(Box::new(NamedZone {
        name: name.to_owned(),
        rules,
    }));
    zones.push(zone);
    Ok(zone)
}

impl DbTimeZone {
    /// UTC.
    pub(crate) const UTC: DbTimeZone = DbTimeZone::Fixed(0);

    /// Parses what Java's `ZoneId.of` accepts in practice: `UTC`, `GMT`, `Z`, `+HH:MM`, `-HHMM`,
    /// `UTC+HH:MM`, `GMT-H`, and region names of the tz database (`Europe/Paris`).
    pub(crate) fn parse(s: &str) -> Result<DbTimeZone> {
        let t = s.trim();
        let bad = |why: &str| {
            ConnectError::config(format!(
                "Invalid value {t} for configuration db.timezone: {why}"
            ))
        };
        if let Some(fixed) = Self::parse_fixed(t) {
            return fixed.ok_or_else(|| bad("not a valid offset such as +02:00"));
        }
        intern(t).map(DbTimeZone::from_rules).map_err(|e| {
            bad(&format!(
                "not a known time zone ({e}); use a tz database name such as Europe/Paris or an \
                 offset such as +02:00"
            ))
        })
    }

    /// A zone whose rules never change its offset (`Etc/UTC`, `Etc/GMT+5`) is a fixed offset:
    /// sessions then get an offset, which MySQL accepts without its time zone tables.
    fn from_rules(zone: &'static NamedZone) -> DbTimeZone {
        let rules = &zone.rules;
        if rules.following(jiff::Timestamp::MIN).next().is_none() {
            DbTimeZone::Fixed(rules.to_offset(jiff::Timestamp::UNIX_EPOCH).seconds())
        } else {
            DbTimeZone::Named(zone)
        }
    }

    /// `Some` when `t` has the form of a UTC offset (valid or not), `None` for a region name.
    fn parse_fixed(t: &str) -> Option<Option<DbTimeZone>> {
        let rest = ["UTC", "GMT", "UT", "Z"]
            .iter()
            .find_map(|p| t.strip_prefix(p))
            .unwrap_or(t);
        if rest.is_empty() {
            return Some(Some(DbTimeZone::UTC));
        }
        let (sign, digits) = match rest.as_bytes()[0] {
            b'+' => (1, &rest[1..]),
            b'-' => (-1, &rest[1..]),
            _ => return None,
        };
        let (h, m) = match digits.split_once(':') {
            Some((h, m)) => (h, m),
            None if digits.len() == 4 => digits.split_at(2),
            None => (digits, "0"),
        };
        let parsed = (h.parse::<i32>(), m.parse::<i32>());
        Some(match parsed {
            (Ok(h), Ok(m)) if h <= 18 && m <= 59 => {
                Some(DbTimeZone::Fixed(sign * (h * 3600 + m * 60)))
            }
            _ => None,
        })
    }

    /// The zone for the database session's time zone statement: `+HH:MM`, or the zone's name.
    pub(crate) fn offset_text(self) -> String {
        match self {
            DbTimeZone::Fixed(secs) => offset_hh_mm(secs),
            DbTimeZone::Named(z) => z.name.clone(),
        }
    }

    /// The UTC offset in seconds in force at the instant `utc_us` (epoch microseconds).
    pub(crate) fn offset_at(self, utc_us: i64) -> i32 {
        match self {
            DbTimeZone::Fixed(secs) => secs,
            DbTimeZone::Named(z) => {
                let end = if utc_us < 0 {
                    jiff::Timestamp::MIN
                } else {
                    jiff::Timestamp::MAX
                };
                let ts = jiff::Timestamp::from_microsecond(utc_us).unwrap_or(end);
                z.rules.to_offset(ts).seconds()
            }
        }
    }

    /// Appends the offset in force at `utc_us` as `+HH:MM`, for literals that carry their own
    /// offset.
    pub(crate) fn write_offset_at(self, utc_us: i64, out: &mut Vec<u8>) {
        let secs = self.offset_at(utc_us);
        out.push(if secs < 0 { b'-' } else { b'+' });
        let a = secs.unsigned_abs();
        push_padded::<2>(out, (a / 3600).into());
        out.push(b':');
        push_padded::<2>(out, (a / 60 % 60).into());
    }

    /// Wall-clock microseconds in this zone → UTC epoch microseconds. A wall time that a DST
    /// change skips is read as if the clock had not moved yet (02:30 in a spring-forward gap is
    /// 03:30 summer time), one that it repeats as its first occurrence: `java.time`'s rules, so
    /// Ferry reads the same instants as Java.
    pub(crate) fn wall_to_utc(self, wall_us: i64) -> i64 {
        match self {
            DbTimeZone::Fixed(secs) => wall_us - secs as i64 * 1_000_000,
            DbTimeZone::Named(z) => {
                let c = Civil::from_micros(wall_us);
                let dt = jiff::civil::DateTime::new(
                    c.year.clamp(-9999, 9999) as i16,
                    c.month as i8,
                    c.day as i8,
                    c.hour as i8,
                    c.minute as i8,
                    c.second as i8,
                    c.micros as i32 * 1000,
                );
                match dt.and_then(|dt| z.rules.to_ambiguous_timestamp(dt).compatible()) {
                    Ok(ts) => ts.as_microsecond(),
                    // Outside jiff's years ±9999: the offset at that end of time.
                    Err(_) => wall_us - self.offset_at(wall_us) as i64 * 1_000_000,
                }
            }
        }
    }

    /// UTC epoch microseconds → wall-clock microseconds in this zone.
    pub(crate) fn utc_to_wall(self, utc_us: i64) -> i64 {
        utc_us + self.offset_at(utc_us) as i64 * 1_000_000
    }
}

/// `timestamp.granularity`: how the source represents timestamp columns. Only the record value
/// changes; offsets keep Confluent's `timestamp` (ms) + `timestamp_nanos` form whatever is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum TimestampGranularity {
    /// Connect's `Timestamp` logical type (epoch milliseconds).
    #[default]
    ConnectLogical,
    /// INT64 epoch microseconds.
    MicrosLong,
    /// STRING of the epoch microseconds.
    MicrosString,
    /// STRING `yyyy-MM-dd'T'HH:mm:ss.SSSSSS`, the wall clock in `db.timezone`.
    MicrosIsoDatetimeString,
    /// INT64 epoch nanoseconds.
    NanosLong,
    /// STRING of the epoch nanoseconds.
    NanosString,
    /// STRING `yyyy-MM-dd'T'HH:mm:ss.SSSSSSSSS`, the wall clock in `db.timezone`.
    NanosIsoDatetimeString,
}

/// A timestamp in one of the [`TimestampGranularity`] forms other than the logical type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum GranularValue {
    Long(i64),
    Text(String),
}

impl TimestampGranularity {
    /// The accepted `timestamp.granularity` values, in Confluent's order.
    pub(crate) const NAMES: [&'static str; 7] = [
        "connect_logical",
        "micros_long",
        "micros_string",
        "micros_iso_datetime_string",
        "nanos_long",
        "nanos_string",
        "nanos_iso_datetime_string",
    ];

    /// Parses a validated value (case-insensitive).
    pub(crate) fn parse(s: &str) -> TimestampGranularity {
        use TimestampGranularity::*;
        match s.trim().to_ascii_lowercase().as_str() {
            "micros_long" => MicrosLong,
            "micros_string" => MicrosString,
            "micros_iso_datetime_string" => MicrosIsoDatetimeString,
            "nanos_long" => NanosLong,
            "nanos_string" => NanosString,
            "nanos_iso_datetime_string" => NanosIsoDatetimeString,
            _ => ConnectLogical,
        }
    }

    /// Whether values are INT64 (else STRING); meaningless for `ConnectLogical`.
    pub(crate) fn is_long(self) -> bool {
        matches!(
            self,
            TimestampGranularity::MicrosLong | TimestampGranularity::NanosLong
        )
    }

    /// The value of the instant `utc_us` (epoch microseconds); ISO strings are the wall clock in
    /// `zone`. None when epoch nanoseconds overflow INT64 (after 2262-04-11).
    pub(crate) fn value(self, utc_us: i64, zone: DbTimeZone) -> Option<GranularValue> {
        use TimestampGranularity::*;
        let nanos = || utc_us.checked_mul(1000);
        let iso = || {
            let c = Civil::from_micros(zone.utc_to_wall(utc_us));
            format!("{}T{}", c.date_text(), c.time_text())
        };
        Some(match self {
            ConnectLogical => GranularValue::Long(utc_us.div_euclid(1000)),
            MicrosLong => GranularValue::Long(utc_us),
            MicrosString => GranularValue::Text(utc_us.to_string()),
            MicrosIsoDatetimeString => GranularValue::Text(iso()),
            NanosLong => GranularValue::Long(nanos()?),
            NanosString => GranularValue::Text(nanos()?.to_string()),
            NanosIsoDatetimeString => GranularValue::Text(iso() + "000"),
        })
    }
}

/// `+HH:MM` of an offset in seconds.
fn offset_hh_mm(secs: i32) -> String {
    let sign = if secs < 0 { '-' } else { '+' };
    let a = secs.unsigned_abs();
    format!("{sign}{:02}:{:02}", a / 3600, a / 60 % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padded_digits_widen_when_needed() {
        let mut out = Vec::new();
        push_padded::<2>(&mut out, 7);
        push_padded::<2>(&mut out, 42);
        push_padded::<2>(&mut out, 12_345);
        push_padded::<6>(&mut out, 0);
        push_padded::<4>(&mut out, u64::MAX);
        assert_eq!(out, format!("074212345000000{}", u64::MAX).as_bytes());
    }

    #[test]
    fn written_dates_times_and_offsets_match_their_formats() {
        for us in [
            0i64,
            -1,
            1_700_000_000_123_456,
            -62_135_596_800_000_000,
            253_402_300_799_999_999,
        ] {
            let c = Civil::from_micros(us);
            assert_eq!(
                c.date_text(),
                format!("{:04}-{:02}-{:02}", c.year, c.month, c.day)
            );
            assert_eq!(
                c.time_text(),
                format!(
                    "{:02}:{:02}:{:02}.{:06}",
                    c.hour, c.minute, c.second, c.micros
                )
            );
        }
        let far = Civil::from_micros(-62_167_219_200_000_000 - 86_400_000_000 * 366);
        assert_eq!(
            far.date_text(),
            format!("{:04}-{:02}-{:02}", far.year, far.month, far.day)
        );
        assert!(far.date_text().starts_with("-00"), "{}", far.date_text());
        for secs in [0, 3600, -3600, 19_800, -34_200, 64_800] {
            let mut out = Vec::new();
            DbTimeZone::Fixed(secs).write_offset_at(0, &mut out);
            assert_eq!(String::from_utf8(out).unwrap(), offset_hh_mm(secs));
        }
    }

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
    fn timestamp_granularities() {
        use GranularValue::*;
        use TimestampGranularity::*;
        // 2024-10-27 00:30:00.123456 UTC = 02:30:00.123456 in Paris (summer time).
        let us = 1_729_989_000_123_456;
        let paris = DbTimeZone::parse("Europe/Paris").unwrap();
        let table = [
            (ConnectLogical, Long(1_729_989_000_123)),
            (MicrosLong, Long(us)),
            (MicrosString, Text("1729989000123456".into())),
            (
                MicrosIsoDatetimeString,
                Text("2024-10-27T02:30:00.123456".into()),
            ),
            (NanosLong, Long(us * 1000)),
            (NanosString, Text("1729989000123456000".into())),
            (
                NanosIsoDatetimeString,
                Text("2024-10-27T02:30:00.123456000".into()),
            ),
        ];
        for (g, want) in &table {
            assert_eq!(g.value(us, paris).as_ref(), Some(want), "{g:?}");
        }
        for (i, name) in TimestampGranularity::NAMES.iter().enumerate() {
            assert_eq!(TimestampGranularity::parse(name), table[i].0);
        }
        assert_eq!(
            MicrosIsoDatetimeString.value(-1, DbTimeZone::UTC),
            Some(Text("1969-12-31T23:59:59.999999".into()))
        );
        assert_eq!(NanosLong.value(i64::MAX / 100, DbTimeZone::UTC), None);
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
            DbTimeZone::Fixed(-(5 * 3600 + 30 * 60))
        );
        // Zones without transitions are offsets (the tz database's GMT+5 is UTC-5).
        for (name, offset) in [("Etc/UTC", 0), ("Etc/GMT+5", -5 * 3600), ("Zulu", 0)] {
            assert_eq!(
                DbTimeZone::parse(name).unwrap(),
                DbTimeZone::Fixed(offset),
                "{name}"
            );
        }
        for bad in ["Mars/Base", "+25:00", "UTC+x"] {
            let err = DbTimeZone::parse(bad).unwrap_err();
            assert!(
                err.message().starts_with(&format!(
                    "Invalid value {bad} for configuration db.timezone"
                )),
                "{err}"
            );
        }
    }

    /// Europe/Paris around the 2024 changes: 31 March 02:00 CET → 03:00 CEST, 27 October 03:00
    /// CEST → 02:00 CET. (wall, UTC) pairs as `java.time` resolves them.
    #[test]
    fn named_zones_follow_dst() {
        let paris = DbTimeZone::parse("Europe/Paris").unwrap();
        assert_eq!(paris, DbTimeZone::parse(" Europe/Paris ").unwrap());
        assert_eq!(paris.offset_text(), "Europe/Paris");
        let us = |s: &str| {
            let (d, t) = s.split_once(' ').unwrap();
            let p: Vec<u32> = d
                .split('-')
                .chain(t.split(':'))
                .map(|x| x.parse().unwrap())
                .collect();
            Civil {
                year: p[0] as i64,
                month: p[1],
                day: p[2],
                hour: p[3],
                minute: p[4],
                second: p[5],
                micros: 0,
            }
            .to_micros()
        };
        let table = [
            ("2024-03-31 01:30:00", "2024-03-31 00:30:00", "+01:00"),
            // The gap: 02:30 does not exist; read as 03:30 CEST.
            ("2024-03-31 02:30:00", "2024-03-31 01:30:00", "+02:00"),
            ("2024-03-31 03:30:00", "2024-03-31 01:30:00", "+02:00"),
            ("2024-07-01 12:00:00", "2024-07-01 10:00:00", "+02:00"),
            // The fold: 02:30 happens twice; the first (CEST) is taken.
            ("2024-10-27 02:30:00", "2024-10-27 00:30:00", "+02:00"),
            ("2024-10-27 03:30:00", "2024-10-27 02:30:00", "+01:00"),
        ];
        for (wall, utc, offset) in table {
            assert_eq!(paris.wall_to_utc(us(wall)), us(utc), "{wall}");
            let mut text = Vec::new();
            paris.write_offset_at(us(utc), &mut text);
            assert_eq!(text, offset.as_bytes(), "{wall}");
        }
        // Instants map back to their wall clock; both instants of the fold are kept apart.
        for utc in ["2024-10-27 00:30:00", "2024-10-27 01:30:00"] {
            let wall = Civil::from_micros(paris.utc_to_wall(us(utc)));
            assert_eq!(wall.time_text(), "02:30:00.000000", "{utc}");
        }
        assert_eq!(
            paris.utc_to_wall(us("2024-01-15 11:00:00")),
            us("2024-01-15 12:00:00")
        );
    }
}
