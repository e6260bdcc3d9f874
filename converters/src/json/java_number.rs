//! Java's number-to-text rules, which Kafka's output follows byte for byte: `Double.toString`,
//! `Float.toString` (what Jackson writes for doubles and floats) and `BigDecimal.toString` (what
//! Jackson writes for decimals, and what `Struct.toString` prints).
//!
//! The shortest round-tripping digits come from `ryu`; Java (JDK 19+) picks the same digits, then
//! lays them out as plain text for 10^-3 <= |v| < 10^7 and as `d.dddE±n` otherwise, always with a
//! digit after the point.

use ferry_api::Decimal;

/// Appends `Double.toString(v)`.
pub fn write_f64(out: &mut Vec<u8>, v: f64) {
    if !v.is_finite() {
        out.extend_from_slice(non_finite(v.is_nan(), v > 0.0));
        return;
    }
    let mut buf = ryu::Buffer::new();
    let shortest = buf.format_finite(v);
    let subnormal = v != 0.0 && v.abs() < f64::MIN_POSITIVE;
    let two_digits = || format!("{:.1e}", v.abs());
    let round_trips = |s: &str| s.parse::<f64>().ok() == Some(v.abs());
    layout(
        out,
        v.is_sign_negative(),
        shortest,
        subnormal,
        two_digits,
        round_trips,
    );
}

/// Appends `Float.toString(v)`.
pub fn write_f32(out: &mut Vec<u8>, v: f32) {
    if !v.is_finite() {
        out.extend_from_slice(non_finite(v.is_nan(), v > 0.0));
        return;
    }
    let mut buf = ryu::Buffer::new();
    let shortest = buf.format_finite(v);
    let subnormal = v != 0.0 && v.abs() < f32::MIN_POSITIVE;
    let two_digits = || format!("{:.1e}", v.abs());
    let round_trips = |s: &str| s.parse::<f32>().ok() == Some(v.abs());
    layout(
        out,
        v.is_sign_negative(),
        shortest,
        subnormal,
        two_digits,
        round_trips,
    );
}

/// `Double.toString` as a `String`.
pub fn f64_to_string(v: f64) -> String {
    let mut out = Vec::with_capacity(24);
    write_f64(&mut out, v);
    String::from_utf8(out).expect("ASCII")
}

/// `Float.toString` as a `String`.
pub fn f32_to_string(v: f32) -> String {
    let mut out = Vec::with_capacity(16);
    write_f32(&mut out, v);
    String::from_utf8(out).expect("ASCII")
}

fn non_finite(nan: bool, positive: bool) -> &'static [u8] {
    match (nan, positive) {
        (true, _) => b"NaN",
        (false, true) => b"Infinity",
        (false, false) => b"-Infinity",
    }
}

/// Significant digits (no leading/trailing zeros) and the exponent `e` of `d.ddd × 10^e`, read
/// from any decimal text `ryu` or `format!` produce (`12.5`, `1e-7`, `1.5e22`, `0.001`).
fn digits_and_exponent(text: &str) -> (Vec<u8>, i32) {
    let text = text.trim_start_matches('-');
    let (mantissa, exp) = match text.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (text, 0),
    };
    let (int_part, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let mut digits: Vec<u8> = int_part.bytes().chain(frac.bytes()).collect();
    let mut point = int_part.len() as i32 + exp;
    let leading = digits.iter().take_while(|&&d| d == b'0').count();
    digits.drain(..leading);
    point -= leading as i32;
    while digits.last() == Some(&b'0') {
        digits.pop();
    }
    if digits.is_empty() {
        return (vec![b'0'], 0);
    }
    (digits, point - 1)
}

/// Java's layout of shortest digits. For subnormals whose shortest form has one digit, Java
/// (JDK 19+) prefers the closest two-digit decimal that still round-trips (`4.9E-324`, not `5E-324`).
fn layout(
    out: &mut Vec<u8>,
    negative: bool,
    shortest: &str,
    subnormal: bool,
    two_digits: impl Fn() -> String,
    round_trips: impl Fn(&str) -> bool,
) {
    let (mut digits, mut exp) = digits_and_exponent(shortest);
    if subnormal && digits.len() == 1 {
        let candidate = two_digits();
        if round_trips(&candidate) {
            (digits, exp) = digits_and_exponent(&candidate);
        }
    }
    if negative {
        out.push(b'-');
    }
    if digits == b"0" {
        out.extend_from_slice(b"0.0");
        return;
    }
    if (-3..7).contains(&exp) {
        if exp >= 0 {
            let int_len = exp as usize + 1;
            if digits.len() <= int_len {
                out.extend_from_slice(&digits);
                out.extend(std::iter::repeat_n(b'0', int_len - digits.len()));
                out.extend_from_slice(b".0");
            } else {
                out.extend_from_slice(&digits[..int_len]);
                out.push(b'.');
                out.extend_from_slice(&digits[int_len..]);
            }
        } else {
            out.extend_from_slice(b"0.");
            out.extend(std::iter::repeat_n(b'0', (-exp - 1) as usize));
            out.extend_from_slice(&digits);
        }
    } else {
        out.push(digits[0]);
        out.push(b'.');
        if digits.len() > 1 {
            out.extend_from_slice(&digits[1..]);
        } else {
            out.push(b'0');
        }
        out.push(b'E');
        out.extend_from_slice(exp.to_string().as_bytes());
    }
}

/// Appends `BigDecimal.toString()`: plain when the scale is non-negative and the adjusted exponent
/// is at least -6, otherwise scientific (`1.23E+5`, `1E-7`).
pub fn write_big_decimal(out: &mut Vec<u8>, d: &Decimal) {
    let negative = d.unscaled.sign() == num_bigint::Sign::Minus;
    let coeff = d.unscaled.magnitude().to_string();
    let len = coeff.len() as i64;
    let scale = d.scale as i64;
    let adjusted = -scale + (len - 1);
    if negative {
        out.push(b'-');
    }
    if scale >= 0 && adjusted >= -6 {
        let scale = scale as usize;
        if scale == 0 {
            out.extend_from_slice(coeff.as_bytes());
        } else if coeff.len() > scale {
            let (i, f) = coeff.split_at(coeff.len() - scale);
            out.extend_from_slice(i.as_bytes());
            out.push(b'.');
            out.extend_from_slice(f.as_bytes());
        } else {
            out.extend_from_slice(b"0.");
            out.extend(std::iter::repeat_n(b'0', scale - coeff.len()));
            out.extend_from_slice(coeff.as_bytes());
        }
        return;
    }
    out.extend_from_slice(&coeff.as_bytes()[..1]);
    if len > 1 {
        out.push(b'.');
        out.extend_from_slice(&coeff.as_bytes()[1..]);
    }
    if adjusted != 0 {
        out.push(b'E');
        if adjusted > 0 {
            out.push(b'+');
        }
        out.extend_from_slice(adjusted.to_string().as_bytes());
    }
}

/// `BigDecimal.toString()` as a `String`.
pub fn big_decimal_to_string(d: &Decimal) -> String {
    let mut out = Vec::new();
    write_big_decimal(&mut out, d);
    String::from_utf8(out).expect("ASCII")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_print_like_java() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (-1.5, "-1.5"),
            (123.456, "123.456"),
            (100.0, "100.0"),
            (0.001, "0.001"),
            (0.0001, "1.0E-4"),
            (1.0e-5, "1.0E-5"),
            (9_999_999.0, "9999999.0"),
            (1.0e7, "1.0E7"),
            (1.0e10, "1.0E10"),
            (1.2345e10, "1.2345E10"),
            (1.0e23, "1.0E23"),
            (0.1 + 0.2, "0.30000000000000004"),
            (f64::MAX, "1.7976931348623157E308"),
            (f64::MIN_POSITIVE, "2.2250738585072014E-308"),
            (5e-324, "4.9E-324"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
        ];
        for (v, want) in cases {
            assert_eq!(f64_to_string(*v), *want, "{v:e}");
        }
    }

    #[test]
    fn floats_print_like_java() {
        let cases: &[(f32, &str)] = &[
            (1.0, "1.0"),
            (1.1, "1.1"),
            (0.1, "0.1"),
            (3.4028235e38, "3.4028235E38"),
            (1.0e-3, "0.001"),
            (1.0e7, "1.0E7"),
            (1.4e-45, "1.4E-45"),
            (-2.5e-5, "-2.5E-5"),
        ];
        for (v, want) in cases {
            assert_eq!(f32_to_string(*v), *want, "{v:e}");
        }
    }

    #[test]
    fn big_decimals_print_like_java() {
        let cases: &[(i64, i32, &str)] = &[
            (156, 2, "1.56"),
            (-156, 2, "-1.56"),
            (5, 3, "0.005"),
            (0, 0, "0"),
            (0, 2, "0.00"),
            (1, 7, "1E-7"),
            (123, 8, "0.00000123"),
            (123, 9, "1.23E-7"),
            (5, -2, "5E+2"),
            (12, -1, "1.2E+2"),
            (12345, 0, "12345"),
        ];
        for (u, s, want) in cases {
            assert_eq!(big_decimal_to_string(&Decimal::new(*u, *s)), *want);
        }
    }
}
