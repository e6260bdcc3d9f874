//! PostgreSQL binary wire formats of the types the source reads, decoded into [`Cell`]s (the
//! formats are PostgreSQL's `*_send` functions: big-endian integers, base-10000 NUMERIC digits,
//! microseconds since 2000-01-01 for timestamps, 1-D arrays with a header).

use bytes::Bytes;
use num_bigint::BigInt;

use ferry_api::{ConnectError, Decimal, Result};
use tokio_postgres::types::{Kind, Type};

use crate::time::{DbTimeZone, MICROS_PER_DAY};
use crate::types::Cell;

/// Days from 1970-01-01 to PostgreSQL's epoch, 2000-01-01.
const PG_EPOCH_DAYS: i64 = 10_957;

fn short(what: &str) -> ConnectError {
    ConnectError::data(format!("truncated PostgreSQL {what} value"))
}

fn be<const N: usize>(raw: &[u8], at: usize, what: &str) -> Result<[u8; N]> {
    raw.get(at..at + N)
        .and_then(|s| s.try_into().ok())
        .ok_or_else(|| short(what))
}

/// Decodes one non-null binary value of type `ty`. Types without a decoder come back as raw
/// bytes (their columns are unsupported and skipped by the mapping anyway).
pub(crate) fn decode(ty: &Type, raw: &[u8], tz: DbTimeZone) -> Result<Cell> {
    let text = || Cell::Text(String::from_utf8_lossy(raw).into_owned());
    Ok(match *ty {
        Type::BOOL => Cell::Bool(raw.first().is_some_and(|b| *b != 0)),
        Type::INT2 => Cell::Int(i16::from_be_bytes(be(raw, 0, "int2")?) as i64),
        Type::INT4 => Cell::Int(i32::from_be_bytes(be(raw, 0, "int4")?) as i64),
        Type::INT8 => Cell::Int(i64::from_be_bytes(be(raw, 0, "int8")?)),
        Type::OID => Cell::Int(u32::from_be_bytes(be(raw, 0, "oid")?) as i64),
        Type::FLOAT4 => Cell::Float(f32::from_be_bytes(be(raw, 0, "float4")?) as f64),
        Type::FLOAT8 => Cell::Float(f64::from_be_bytes(be(raw, 0, "float8")?)),
        Type::NUMERIC => numeric(raw)?,
        Type::TEXT
        | Type::VARCHAR
        | Type::BPCHAR
        | Type::NAME
        | Type::JSON
        | Type::XML
        | Type::UNKNOWN => text(),
        Type::JSONB => {
            Cell::Text(String::from_utf8_lossy(raw.get(1..).unwrap_or_default()).into_owned())
        }
        Type::UUID => {
            let b: [u8; 16] = be(raw, 0, "uuid")?;
            let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
            Cell::Text(format!(
                "{}-{}-{}-{}-{}",
                &h[0..8],
                &h[8..12],
                &h[12..16],
                &h[16..20],
                &h[20..32]
            ))
        }
        Type::BYTEA => Cell::Bytes(Bytes::copy_from_slice(raw)),
        Type::DATE => {
            Cell::Date((i32::from_be_bytes(be(raw, 0, "date")?) as i64 + PG_EPOCH_DAYS) as i32)
        }
        Type::TIME | Type::TIMETZ => Cell::Time(i64::from_be_bytes(be(raw, 0, "time")?)),
        Type::TIMESTAMP => {
            let wall =
                i64::from_be_bytes(be(raw, 0, "timestamp")?) + PG_EPOCH_DAYS * MICROS_PER_DAY;
            Cell::Timestamp(tz.wall_to_utc(wall))
        }
        Type::TIMESTAMPTZ => Cell::Timestamp(
            i64::from_be_bytes(be(raw, 0, "timestamptz")?) + PG_EPOCH_DAYS * MICROS_PER_DAY,
        ),
        _ => match ty.kind() {
            Kind::Array(elem) => array(elem, raw, tz)?,
            Kind::Enum(_) => text(),
            Kind::Domain(base) => decode(base, raw, tz)?,
            _ => Cell::Bytes(Bytes::copy_from_slice(raw)),
        },
    })
}

/// NUMERIC: ndigits, weight, sign, dscale, then base-10000 digits; value =
/// Σ digit[i] · 10000^(weight − i), shown with `dscale` decimals.
fn numeric(raw: &[u8]) -> Result<Cell> {
    let ndigits = u16::from_be_bytes(be(raw, 0, "numeric")?) as usize;
    let weight = i16::from_be_bytes(be(raw, 2, "numeric")?) as i64;
    let sign = u16::from_be_bytes(be(raw, 4, "numeric")?);
    let dscale = u16::from_be_bytes(be(raw, 6, "numeric")?) as i32;
    if sign == 0xC000 {
        return Ok(Cell::Float(f64::NAN));
    }
    let digits = raw
        .get(8..8 + 2 * ndigits)
        .ok_or_else(|| short("numeric"))?;
    // n · 10000^(weight − ndigits + 1) · 10^dscale is the unscaled value at scale dscale.
    let exp10 = 4 * (weight - ndigits as i64 + 1) + dscale as i64;
    let unscaled = unscaled_in_i128(digits, exp10)
        .map(BigInt::from)
        .unwrap_or_else(|| unscaled_in_bigint(digits, exp10));
    let unscaled = if sign == 0x4000 { -unscaled } else { unscaled };
    Ok(Cell::Decimal(Decimal::new(unscaled, dscale)))
}

/// The base-10000 digits of a NUMERIC, from their big-endian bytes.
fn base_10000_digits(bytes: &[u8]) -> impl Iterator<Item = i16> + '_ {
    bytes
        .chunks_exact(2)
        .map(|pair| i16::from_be_bytes([pair[0], pair[1]]))
}

/// The unscaled value of base-10000 `digits` times 10^`exp10`, when every step fits an i128:
/// the common case, computed without the big-integer allocations of each step (this is per cell
/// of every NUMERIC column a source reads). `None` on overflow.
fn unscaled_in_i128(digits: &[u8], exp10: i64) -> Option<i128> {
    let mut n: i128 = 0;
    for d in base_10000_digits(digits) {
        n = n.checked_mul(10_000)?.checked_add(i128::from(d))?;
    }
    let power = 10i128.checked_pow(u32::try_from(exp10.unsigned_abs()).ok()?)?;
    if exp10 >= 0 {
        n.checked_mul(power)
    } else {
        Some(n / power)
    }
}

/// [`unscaled_in_i128`] for values of any size.
fn unscaled_in_bigint(digits: &[u8], exp10: i64) -> BigInt {
    let n = base_10000_digits(digits).fold(BigInt::from(0), |n, d| n * 10_000 + d);
    if exp10 >= 0 {
        n * BigInt::from(10).pow(exp10 as u32)
    } else {
        n / BigInt::from(10).pow((-exp10) as u32)
    }
}

/// A one-dimensional array (more dimensions are flattened, as Connect has no shape for them).
fn array(elem: &Type, raw: &[u8], tz: DbTimeZone) -> Result<Cell> {
    let ndim = i32::from_be_bytes(be(raw, 0, "array")?) as usize;
    let mut at = 12 + 8 * ndim;
    let count: usize = (0..ndim)
        .map(|d| be::<4>(raw, 12 + 8 * d, "array").map(|b| i32::from_be_bytes(b) as usize))
        .product::<Result<usize>>()?;
    let count = if ndim == 0 { 0 } else { count };
    let mut items = Vec::with_capacity(count);
    for _ in 0..count {
        let len = i32::from_be_bytes(be(raw, at, "array")?);
        at += 4;
        if len < 0 {
            items.push(Cell::Null);
        } else {
            let len = len as usize;
            let item = raw.get(at..at + len).ok_or_else(|| short("array"))?;
            items.push(decode(elem, item, tz)?);
            at += len;
        }
    }
    Ok(Cell::Array(items))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric_bytes(weight: i16, sign: u16, dscale: u16, digits: &[i16]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend((digits.len() as i16).to_be_bytes());
        v.extend(weight.to_be_bytes());
        v.extend(sign.to_be_bytes());
        v.extend(dscale.to_be_bytes());
        for d in digits {
            v.extend(d.to_be_bytes());
        }
        v
    }

    #[test]
    fn decodes_numeric() {
        // 12345.678 = [1][2345][6780] weight 1, dscale 3
        let raw = numeric_bytes(1, 0, 3, &[1, 2345, 6780]);
        assert_eq!(
            numeric(&raw).unwrap(),
            Cell::Decimal(Decimal::new(12_345_678, 3))
        );
        // -0.05 = [500] weight -1, dscale 2
        let raw = numeric_bytes(-1, 0x4000, 2, &[500]);
        assert_eq!(numeric(&raw).unwrap(), Cell::Decimal(Decimal::new(-5, 2)));
        // 20000 = [2] weight 1, dscale 0
        let raw = numeric_bytes(1, 0, 0, &[2]);
        assert_eq!(
            numeric(&raw).unwrap(),
            Cell::Decimal(Decimal::new(20_000, 0))
        );
        // 0.00 (no digits)
        let raw = numeric_bytes(0, 0, 2, &[]);
        assert_eq!(numeric(&raw).unwrap(), Cell::Decimal(Decimal::new(0, 2)));
    }

    #[test]
    fn decodes_numeric_beyond_i128() {
        // 10 groups of 9999 (40 nines) do not fit an i128: the big-integer path takes over.
        let raw = numeric_bytes(9, 0x4000, 1, &[9999; 10]);
        let nines: BigInt = "9".repeat(40).parse().unwrap();
        assert_eq!(
            numeric(&raw).unwrap(),
            Cell::Decimal(Decimal::new(-(nines * BigInt::from(10)), 1))
        );
        // A digit group beyond the NUMERIC's length is an error naming the type, not a panic.
        let mut raw = numeric_bytes(0, 0, 0, &[1, 2]);
        raw.truncate(raw.len() - 1);
        assert!(numeric(&raw).unwrap_err().to_string().contains("numeric"));
    }

    #[test]
    fn decodes_scalars() {
        let tz = DbTimeZone::UTC;
        assert_eq!(
            decode(&Type::DATE, &0i32.to_be_bytes(), tz).unwrap(),
            Cell::Date(10_957)
        );
        assert_eq!(
            decode(&Type::TIMESTAMPTZ, &1i64.to_be_bytes(), tz).unwrap(),
            Cell::Timestamp(946_684_800_000_001)
        );
        let uuid: Vec<u8> = (0u8..16).collect();
        assert_eq!(
            decode(&Type::UUID, &uuid, tz).unwrap(),
            Cell::Text("00010203-0405-0607-0809-0a0b0c0d0e0f".into())
        );
        assert_eq!(
            decode(&Type::JSONB, b"\x01{\"a\":1}", tz).unwrap(),
            Cell::Text("{\"a\":1}".into())
        );
    }

    #[test]
    fn decodes_arrays() {
        // int4[] {7,NULL}: ndim 1, has_null 1, elem oid 23, dim (2, lbound 1)
        let mut raw = Vec::new();
        for v in [1i32, 1, 23, 2, 1] {
            raw.extend(v.to_be_bytes());
        }
        raw.extend(4i32.to_be_bytes());
        raw.extend(7i32.to_be_bytes());
        raw.extend((-1i32).to_be_bytes());
        assert_eq!(
            decode(&Type::INT4_ARRAY, &raw, DbTimeZone::UTC).unwrap(),
            Cell::Array(vec![Cell::Int(7), Cell::Null])
        );
        // empty array: ndim 0
        let mut raw = Vec::new();
        for v in [0i32, 0, 23] {
            raw.extend(v.to_be_bytes());
        }
        assert_eq!(
            decode(&Type::INT4_ARRAY, &raw, DbTimeZone::UTC).unwrap(),
            Cell::Array(vec![])
        );
    }
}
