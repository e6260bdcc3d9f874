//! The benchmark's records: the same bytes whether a baseline sends them or
//! Ferry reads them from a file, so both sides move identical data.

/// Record `i` of `size` bytes: the zero-padded index, then filler. Contains no
/// newline, so it is also one line of the source file.
pub fn payload(i: u64, size: usize) -> Vec<u8> {
    let mut out = format!("{i:012}").into_bytes();
    out.resize(size, b'x');
    out.truncate(size);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_has_exact_size_and_index_prefix() {
        let cases = [
            (7, 20, &b"000000000007xxxxxxxx"[..]),
            (123, 12, &b"000000000123"[..]),
            (5, 4, &b"0000"[..]),
        ];
        for (i, size, expected) in cases {
            assert_eq!(payload(i, size), expected, "payload({i}, {size})");
        }
    }
}
