//! A small Java `SimpleDateFormat` (always UTC, English names) for the patterns Connect configs
//! use: `TimestampRouter`'s `timestamp.format` and `TimestampConverter`'s `format`.
//!
//! Supported letters: `y` year, `Y` week-year (Java's US-locale rule: weeks start on Sunday and
//! week 1 is the week containing 1 January, so the last days of December can belong to the next
//! week-year — exact for that locale, which is what a JVM with default settings uses), `M` month
//! (3 letters = `Jan`, 4+ = `January`), `d` day of month, `D` day of year, `E` day name, `H` hour
//! 0-23, `h` hour 1-12, `a` AM/PM, `m`, `s`, `S` milliseconds, `Z` (`+0000`), `X` (`Z`), and
//! quoted literals (`'T'`, `''`). Other letters are rejected when the pattern is configured.

const MS_PER_DAY: i64 = 86_400_000;
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Literal(String),
    Field(char, usize),
}

/// A compiled pattern.
#[derive(Debug, Clone)]
pub(crate) struct DateFormat {
    tokens: Vec<Token>,
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month 1-12, day 1-31) of a day count since the epoch.
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

/// The broken-down UTC time of an epoch-millisecond instant.
struct Civil {
    year: i64,
    month: u32,
    day: u32,
    day_of_year: i64,
    weekday: usize,
    week_year: i64,
    hour: i64,
    minute: i64,
    second: i64,
    millis: i64,
}

impl Civil {
    fn of(epoch_ms: i64) -> Civil {
        let days = epoch_ms.div_euclid(MS_PER_DAY);
        let ms = epoch_ms.rem_euclid(MS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        let weekday = (days + 4).rem_euclid(7) as usize; // 1970-01-01 was a Thursday.
        let saturday = days + (6 - weekday as i64);
        let week_year = civil_from_days(saturday).0.max(year);
        Civil {
            year,
            month,
            day,
            day_of_year: days - days_from_civil(year, 1, 1) + 1,
            weekday,
            week_year,
            hour: ms / 3_600_000,
            minute: ms / 60_000 % 60,
            second: ms / 1000 % 60,
            millis: ms % 1000,
        }
    }
}

fn pad(out: &mut String, v: i64, width: usize) {
    if v < 0 {
        out.push('-');
    }
    out.push_str(&format!("{:0width$}", v.abs(), width = width));
}

fn is_numeric(letter: char, count: usize) -> bool {
    !(matches!(letter, 'E' | 'a' | 'Z' | 'X') || (letter == 'M' && count >= 3))
}

impl DateFormat {
    /// Compiles a pattern; the error is Java's message for an unsupported letter.
    pub(crate) fn new(pattern: &str) -> Result<Self, String> {
        let mut tokens = Vec::new();
        let chars: Vec<char> = pattern.chars().collect();
        let mut i = 0;
        let mut literal = String::new();
        while i < chars.len() {
            let c = chars[i];
            if c == '\'' {
                if chars.get(i + 1) == Some(&'\'') {
                    literal.push('\'');
                    i += 2;
                    continue;
                }
                let end = chars[i + 1..]
                    .iter()
                    .position(|&c| c == '\'')
                    .ok_or_else(|| "Unterminated quote".to_string())?;
                literal.extend(&chars[i + 1..i + 1 + end]);
                i += end + 2;
            } else if c.is_ascii_alphabetic() {
                if !"yYMdDEHhamsSZX".contains(c) {
                    return Err(format!("Illegal pattern character '{c}'"));
                }
                let count = chars[i..].iter().take_while(|&&x| x == c).count();
                if !literal.is_empty() {
                    tokens.push(Token::Literal(std::mem::take(&mut literal)));
                }
                tokens.push(Token::Field(c, count));
                i += count;
            } else {
                literal.push(c);
                i += 1;
            }
        }
        if !literal.is_empty() {
            tokens.push(Token::Literal(literal));
        }
        Ok(DateFormat { tokens })
    }

    /// Formats an epoch-millisecond instant in UTC.
    pub(crate) fn format(&self, epoch_ms: i64) -> String {
        let c = Civil::of(epoch_ms);
        let mut out = String::new();
        for t in &self.tokens {
            match *t {
                Token::Literal(ref s) => out.push_str(s),
                Token::Field(letter, n) => match letter {
                    'y' | 'Y' => {
                        let y = if letter == 'y' { c.year } else { c.week_year };
                        if n == 2 {
                            pad(&mut out, y.rem_euclid(100), 2)
                        } else {
                            pad(&mut out, y, n)
                        }
                    }
                    'M' if n >= 4 => out.push_str(MONTHS[c.month as usize - 1]),
                    'M' if n == 3 => out.push_str(&MONTHS[c.month as usize - 1][..3]),
                    'M' => pad(&mut out, c.month as i64, n),
                    'd' => pad(&mut out, c.day as i64, n),
                    'D' => pad(&mut out, c.day_of_year, n),
                    'E' if n >= 4 => out.push_str(DAYS[c.weekday]),
                    'E' => out.push_str(&DAYS[c.weekday][..3]),
                    'H' => pad(&mut out, c.hour, n),
                    'h' => pad(&mut out, if c.hour % 12 == 0 { 12 } else { c.hour % 12 }, n),
                    'a' => out.push_str(if c.hour < 12 { "AM" } else { "PM" }),
                    'm' => pad(&mut out, c.minute, n),
                    's' => pad(&mut out, c.second, n),
                    'S' => pad(&mut out, c.millis, n),
                    'Z' => out.push_str("+0000"),
                    _ => out.push('Z'), // 'X'
                },
            }
        }
        out
    }

    /// Parses `s` (UTC unless it carries a zone) into epoch milliseconds. Numeric fields followed
    /// directly by another numeric field take exactly their pattern width, as in Java.
    pub(crate) fn parse(&self, s: &str) -> Result<i64, String> {
        let bad = || format!("Unparseable date: \"{s}\"");
        let b = s.as_bytes();
        let mut pos = 0;
        let (mut year, mut month, mut day, mut hour, mut minute, mut second, mut millis) =
            (1970i64, 1u32, 1u32, 0i64, 0i64, 0i64, 0i64);
        let mut pm: Option<bool> = None;
        let mut offset_ms = 0i64;
        for (i, t) in self.tokens.iter().enumerate() {
            match *t {
                Token::Literal(ref lit) => {
                    if !s[pos..].starts_with(lit.as_str()) {
                        return Err(bad());
                    }
                    pos += lit.len();
                }
                Token::Field(letter, n) if is_numeric(letter, n) => {
                    let abutting = matches!(self.tokens.get(i + 1), Some(Token::Field(l, c)) if is_numeric(*l, *c));
                    let start = pos;
                    while pos < b.len() && b[pos].is_ascii_digit() && (!abutting || pos - start < n)
                    {
                        pos += 1;
                    }
                    if pos == start {
                        return Err(bad());
                    }
                    let v: i64 = s[start..pos].parse().map_err(|_| bad())?;
                    match letter {
                        'y' | 'Y' if n <= 2 && pos - start == 2 => year = 2000 + v,
                        'y' | 'Y' => year = v,
                        'M' => month = v as u32,
                        'd' => day = v as u32,
                        'D' => {
                            let (_, m, d) = civil_from_days(days_from_civil(year, 1, 1) + v - 1);
                            month = m;
                            day = d;
                        }
                        'H' => hour = v,
                        'h' => hour = v % 12,
                        'm' => minute = v,
                        's' => second = v,
                        _ => millis = v, // 'S'
                    }
                }
                Token::Field(letter, _) => {
                    let rest = &s[pos..];
                    let starts = |name: &str| {
                        rest.len() >= name.len() && rest[..name.len()].eq_ignore_ascii_case(name)
                    };
                    match letter {
                        'M' => {
                            let (m, len) = MONTHS
                                .iter()
                                .enumerate()
                                .find_map(|(i, full)| {
                                    if starts(full) {
                                        Some((i, full.len()))
                                    } else if starts(&full[..3]) {
                                        Some((i, 3))
                                    } else {
                                        None
                                    }
                                })
                                .ok_or_else(bad)?;
                            month = m as u32 + 1;
                            pos += len;
                        }
                        'E' => {
                            let len = DAYS
                                .iter()
                                .find_map(|d| {
                                    if starts(d) {
                                        Some(d.len())
                                    } else if starts(&d[..3]) {
                                        Some(3)
                                    } else {
                                        None
                                    }
                                })
                                .ok_or_else(bad)?;
                            pos += len;
                        }
                        'a' => {
                            pm = Some(if starts("PM") {
                                true
                            } else if starts("AM") {
                                false
                            } else {
                                return Err(bad());
                            });
                            pos += 2;
                        }
                        _ => {
                            // 'Z' / 'X': "Z", or +hh, +hhmm, +hh:mm.
                            if rest.starts_with('Z') {
                                pos += 1;
                            } else {
                                let sign = match rest.as_bytes().first() {
                                    Some(b'+') => 1,
                                    Some(b'-') => -1,
                                    _ => return Err(bad()),
                                };
                                let digits: String = rest[1..]
                                    .chars()
                                    .filter(|c| *c != ':')
                                    .take_while(|c| c.is_ascii_digit())
                                    .take(4)
                                    .collect();
                                if digits.len() < 2 {
                                    return Err(bad());
                                }
                                let hh: i64 = digits[..2].parse().map_err(|_| bad())?;
                                let mm: i64 = if digits.len() == 4 {
                                    digits[2..].parse().map_err(|_| bad())?
                                } else {
                                    0
                                };
                                let consumed = 1
                                    + digits.len()
                                    + usize::from(
                                        rest[1..].starts_with(|c: char| c.is_ascii_digit())
                                            && rest.get(3..4) == Some(":"),
                                    );
                                offset_ms = sign * (hh * 3_600_000 + mm * 60_000);
                                pos += consumed;
                            }
                        }
                    }
                }
            }
        }
        // Like Java's `DateFormat.parse(String)`, text after the pattern is ignored.
        if pm == Some(true) {
            hour += 12;
        }
        if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
            return Err(bad());
        }
        let days = days_from_civil(year, month, day);
        Ok(
            days * MS_PER_DAY + hour * 3_600_000 + minute * 60_000 + second * 1000 + millis
                - offset_ms,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2017-01-03T06:30:01.864Z, Kafka's TimestampRouterTest instant (1483425001864).
    const TS: i64 = 1_483_425_001_864;

    #[test]
    fn formats_like_simple_date_format() {
        let cases = [
            ("yyyyMMdd", TS, "20170103"),
            (
                "yyyy-MM-dd'T'HH:mm:ss.SSSZ",
                TS,
                "2017-01-03T06:30:01.864+0000",
            ),
            ("yy/M/d h:mm a", TS, "17/1/3 6:30 AM"),
            ("EEE, d MMM yyyy", TS, "Tue, 3 Jan 2017"),
            ("EEEE MMMM D", TS, "Tuesday January 3"),
            ("yyyy-MM-dd'T'HH:mm:ssX", 0, "1970-01-01T00:00:00Z"),
            ("''yyyy''", 0, "'1970'"),
            // 2024-12-30 is a Monday in the week of 2025-01-01: week-year 2025, year 2024.
            ("YYYY yyyy", 1_735_516_800_000, "2025 2024"),
            ("YYYY", 1_704_067_200_000, "2024"), // 2024-01-01
            ("yyyy-MM-dd HH:mm:ss", -1, "1969-12-31 23:59:59"),
        ];
        for (pattern, ts, expected) in cases {
            assert_eq!(
                DateFormat::new(pattern).unwrap().format(ts),
                expected,
                "{pattern}"
            );
        }
        assert_eq!(
            DateFormat::new("yyyyQ").unwrap_err(),
            "Illegal pattern character 'Q'"
        );
    }

    #[test]
    fn parses_what_it_formats() {
        for pattern in [
            "yyyyMMdd HHmmssSSS",
            "yyyy-MM-dd'T'HH:mm:ss.SSSZ",
            "d MMM yyyy hh:mm:ss.SSS a",
        ] {
            let f = DateFormat::new(pattern).unwrap();
            assert_eq!(f.parse(&f.format(TS)), Ok(TS), "{pattern}");
        }
        let f = DateFormat::new("yyyy-MM-dd'T'HH:mm:ssX").unwrap();
        assert_eq!(f.parse("2017-01-03T08:30:01+02:00"), Ok(TS - 864));
        assert_eq!(f.parse("2017-01-03T06:30:01Z"), Ok(TS - 864));
        assert!(f.parse("2017/01/03").is_err());
    }
}
