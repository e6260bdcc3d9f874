//! Splitting a byte stream into lines the way `FileStreamSourceTask` does: a line ends at `\n`,
//! `\r\n` or a lone `\r`; the terminator is not part of the line; a trailing `\r` is held back until
//! the next byte shows whether it starts a `\r\n`; an unterminated last line is held back until
//! its terminator arrives.
//!
//! The buffer is filled in large chunks and lines are taken out of it without moving bytes; the
//! unconsumed tail is moved to the front only before the next fill.

/// How many bytes the buffer asks for per read; large, so that a million short lines cost a few
/// hundred reads.
pub(crate) const CHUNK: usize = 1 << 20;

/// Bytes read from the input but not yet returned as lines.
#[derive(Debug, Default)]
pub(crate) struct LineBuffer {
    /// Bytes read; `buf[start..]` are not consumed yet.
    buf: Vec<u8>,
    start: usize,
}

impl LineBuffer {
    /// Number of bytes read but not consumed as lines (a partial line, or lines not taken yet).
    pub(crate) fn pending(&self) -> usize {
        self.buf.len() - self.start
    }

    /// Forgets everything buffered (after truncation or rotation).
    pub(crate) fn clear(&mut self) {
        self.buf.clear();
        self.start = 0;
    }

    /// Makes room for at least [`CHUNK`] more bytes and returns the vector to read into (its
    /// spare capacity; `tokio::io::AsyncReadExt::read_buf` appends there). Consumed bytes are
    /// dropped from the front first.
    pub(crate) fn spare(&mut self) -> &mut Vec<u8> {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        if self.buf.capacity() - self.buf.len() < CHUNK {
            self.buf.reserve(CHUNK);
        }
        &mut self.buf
    }

    /// Appends bytes (tests and callers that read elsewhere).
    #[cfg(test)]
    pub(crate) fn extend(&mut self, bytes: &[u8]) {
        self.spare().extend_from_slice(bytes);
    }

    /// Takes up to `max` complete lines, calling `emit(line, consumed)` for each, where `consumed`
    /// is the line's length plus its terminator. Returns how many lines were taken. Runs without
    /// awaiting, so a caller that returns right after it never loses a line to cancellation.
    pub(crate) fn take_lines(&mut self, max: usize, mut emit: impl FnMut(&[u8], usize)) -> usize {
        let mut taken = 0;
        while taken < max {
            let rest = &self.buf[self.start..];
            let Some(end) = find_line_end(rest) else {
                break;
            };
            let consumed = if rest[end] == b'\n' {
                end + 1
            } else {
                match rest.get(end + 1) {
                    // A lone '\r' at the end: wait for the next byte to tell "\r\n" from "\r".
                    None => break,
                    Some(b'\n') => end + 2,
                    Some(_) => end + 1,
                }
            };
            emit(&rest[..end], consumed);
            self.start += consumed;
            taken += 1;
        }
        taken
    }
}

/// Index of the first `\n` or `\r`, looking at eight bytes per step (a word-at-a-time "has a
/// zero byte" test on the XOR with each terminator). The lowest flagged byte is always a real
/// match, so the answer equals a byte-by-byte search; measured about twice as fast on 100-byte
/// lines.
fn find_line_end(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let flag = |word: u64, byte: u8| {
        let x = word ^ (ONES * u64::from(byte));
        x.wrapping_sub(ONES) & !x & HIGHS
    };
    let mut words = bytes.chunks_exact(8);
    for (i, word) in (&mut words).enumerate() {
        let word = u64::from_le_bytes(word.try_into().expect("chunks of 8"));
        let found = flag(word, b'\n') | flag(word, b'\r');
        if found != 0 {
            return Some(i * 8 + (found.trailing_zeros() / 8) as usize);
        }
    }
    let tail_start = bytes.len() - words.remainder().len();
    words
        .remainder()
        .iter()
        .position(|&b| b == b'\n' || b == b'\r')
        .map(|i| tail_start + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[&[u8]], max: usize) -> (Vec<(String, usize)>, usize) {
        let mut b = LineBuffer::default();
        let mut out = Vec::new();
        for chunk in input {
            b.extend(chunk);
            b.take_lines(max, |l, n| {
                out.push((String::from_utf8(l.to_vec()).unwrap(), n))
            });
        }
        (out, b.pending())
    }

    #[test]
    fn splits_like_kafka() {
        type Case<'a> = (&'a [&'a [u8]], &'a [(&'a str, usize)], usize);
        let table: &[Case] = &[
            (&[b"a\nbb\n"], &[("a", 2), ("bb", 3)], 0),
            (&[b"a\r\nb\rc\n"], &[("a", 3), ("b", 2), ("c", 2)], 0),
            (&[b"a\nparti"], &[("a", 2)], 5),
            (&[b"a\r"], &[], 2),
            (&[b"a\r", b"\nb\n"], &[("a", 3), ("b", 2)], 0),
            (&[b"a\r", b"b\n"], &[("a", 2), ("b", 2)], 0),
            (&[b"\n\r\n"], &[("", 1), ("", 2)], 0),
            (&[b"par", b"tial", b"\n"], &[("partial", 8)], 0),
        ];
        for (input, expected, pending) in table {
            let (got, left) = lines(input, usize::MAX);
            let expected: Vec<_> = expected.iter().map(|(l, n)| (l.to_string(), *n)).collect();
            assert_eq!(got, expected, "{input:?}");
            assert_eq!(left, *pending, "{input:?}");
        }
    }

    #[test]
    fn word_search_finds_the_first_terminator() {
        let naive = |b: &[u8]| b.iter().position(|&c| c == b'\n' || c == b'\r');
        // Every position of one or two terminators among bytes that stress the borrow trick
        // (0x00, 0x01, 0x0b, 0x0c, 0x0e, 0x80, 0xff next to 0x0a/0x0d).
        let fillers = [b'x', 0x00, 0x01, 0x0b, 0x0c, 0x0e, 0x80, 0xff];
        for len in 0..20 {
            for &fill in &fillers {
                for first in 0..=len {
                    for &term in b"\n\r" {
                        let mut bytes = vec![fill; len];
                        if first < len {
                            bytes[first] = term;
                            if first + 3 < len {
                                bytes[first + 3] = b'\n';
                            }
                        }
                        assert_eq!(find_line_end(&bytes), naive(&bytes), "{bytes:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn respects_max_and_keeps_the_rest() {
        let mut b = LineBuffer::default();
        b.extend(b"1\n2\n3\n");
        let mut got = Vec::new();
        assert_eq!(b.take_lines(2, |l, _| got.push(l.to_vec())), 2);
        assert_eq!(got, [b"1".to_vec(), b"2".to_vec()]);
        b.extend(b"4\n");
        got.clear();
        assert_eq!(b.take_lines(10, |l, _| got.push(l.to_vec())), 2);
        assert_eq!(got, [b"3".to_vec(), b"4".to_vec()]);
        assert_eq!(b.pending(), 0);
    }
}
