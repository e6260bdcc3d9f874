//! A small strict JSON reader with Jackson's observable behaviour, built for the converter:
//! strings borrow from the input when they have no escapes, numbers keep their text (so NUMERIC
//! decimals keep their exact digits and scale, as Jackson's `USE_BIG_DECIMAL_FOR_FLOATS` does),
//! a later duplicate key replaces an earlier one in place (Jackson's `ObjectNode`), and
//! [`Reader::skip_value`] returns the raw bytes of a value so the envelope's schema can be looked up
//! in the schema cache without being parsed.

use std::borrow::Cow;

use ferry_api::{ConnectError, Result};

/// Jackson's default maximum nesting depth (`StreamReadConstraints`).
const MAX_DEPTH: usize = 1000;

/// A parsed JSON value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node<'a> {
    Null,
    Bool(bool),
    /// An integral number that fits an `i64`.
    Int(i64),
    /// An integral number too large for an `i64` (Jackson's `BigIntegerNode`), as text.
    BigInt(&'a str),
    /// A number with a fraction or exponent (Jackson's `DecimalNode`), as text.
    Float(&'a str),
    Str(Cow<'a, str>),
    Array(Vec<Node<'a>>),
    Object(Vec<(Cow<'a, str>, Node<'a>)>),
}

impl<'a> Node<'a> {
    /// Jackson's `JsonNodeType` name, as Kafka's error messages print it.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Node::Null => "NULL",
            Node::Bool(_) => "BOOLEAN",
            Node::Int(_) | Node::BigInt(_) | Node::Float(_) => "NUMBER",
            Node::Str(_) => "STRING",
            Node::Array(_) => "ARRAY",
            Node::Object(_) => "OBJECT",
        }
    }
    /// The member `key` of an object.
    pub(crate) fn get(&self, key: &str) -> Option<&Node<'a>> {
        match self {
            Node::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Node::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// Reads JSON from a byte slice.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    input: &'a [u8],
    pos: usize,
    depth: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(input: &'a [u8]) -> Self {
        Reader {
            input,
            pos: 0,
            depth: 0,
        }
    }

    /// A reader positioned at `pos` inside `input`, `depth` containers deep (for resuming in the
    /// middle of a document whose start was matched by other means).
    pub(crate) fn at(input: &'a [u8], pos: usize, depth: usize) -> Self {
        Reader { input, pos, depth }
    }

    /// Whether only whitespace is left (Jackson's `readTree` of empty content gives a missing node).
    pub(crate) fn at_end(&mut self) -> bool {
        self.skip_ws();
        self.pos >= self.input.len()
    }

    pub(crate) fn error(&self, what: impl std::fmt::Display) -> ConnectError {
        ConnectError::data(format!("{what} at byte offset {}", self.pos))
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.input.get(self.pos) {
            self.pos += 1;
        }
    }

    /// Whether the next value starts with `byte` (after whitespace); consumes nothing.
    pub(crate) fn next_is(&mut self, byte: u8) -> bool {
        self.peek() == Some(byte)
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.input.get(self.pos).copied()
    }

    fn expect(&mut self, byte: u8) -> Result<()> {
        match self.peek() {
            Some(b) if b == byte => {
                self.pos += 1;
                Ok(())
            }
            Some(b) => Err(self.unexpected(b, &format!("was expecting '{}'", byte as char))),
            None => Err(self.error("Unexpected end-of-input")),
        }
    }

    fn unexpected(&self, b: u8, expecting: &str) -> ConnectError {
        self.error(format_args!(
            "Unexpected character ('{}' (code {b})): {expecting}",
            b as char
        ))
    }

    /// Reads one value.
    pub(crate) fn parse_value(&mut self) -> Result<Node<'a>> {
        match self.peek() {
            None => Err(self.error("Unexpected end-of-input")),
            Some(b'{') => {
                self.enter()?;
                self.pos += 1;
                let mut members: Vec<(Cow<'a, str>, Node<'a>)> = Vec::new();
                if self.peek() == Some(b'}') {
                    self.pos += 1;
                } else {
                    loop {
                        let key = self.parse_key()?;
                        let value = self.parse_value()?;
                        match members.iter_mut().find(|(k, _)| *k == key) {
                            Some(slot) => slot.1 = value,
                            None => members.push((key, value)),
                        }
                        if self.object_continues()? {
                            continue;
                        }
                        break;
                    }
                }
                self.depth -= 1;
                Ok(Node::Object(members))
            }
            Some(b'[') => {
                self.enter()?;
                self.pos += 1;
                let mut items = Vec::new();
                if self.peek() == Some(b']') {
                    self.pos += 1;
                } else {
                    loop {
                        items.push(self.parse_value()?);
                        if self.array_continues()? {
                            continue;
                        }
                        break;
                    }
                }
                self.depth -= 1;
                Ok(Node::Array(items))
            }
            Some(b'"') => Ok(Node::Str(self.parse_string()?)),
            Some(b'-' | b'0'..=b'9') => self.parse_number(),
            Some(_) => self.parse_literal(),
        }
    }

    /// Skips one value, returning its raw bytes.
    pub(crate) fn skip_value(&mut self) -> Result<&'a [u8]> {
        self.skip_ws();
        let start = self.pos;
        match self.peek() {
            Some(b'{') => {
                self.enter()?;
                self.pos += 1;
                if self.peek() == Some(b'}') {
                    self.pos += 1;
                } else {
                    loop {
                        self.parse_key()?;
                        self.skip_value()?;
                        if !self.object_continues()? {
                            break;
                        }
                    }
                }
                self.depth -= 1;
            }
            Some(b'[') => {
                self.enter()?;
                self.pos += 1;
                if self.peek() == Some(b']') {
                    self.pos += 1;
                } else {
                    loop {
                        self.skip_value()?;
                        if !self.array_continues()? {
                            break;
                        }
                    }
                }
                self.depth -= 1;
            }
            _ => {
                self.parse_value()?;
            }
        }
        Ok(&self.input[start..self.pos])
    }

    fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(format_args!(
                "Document nesting depth exceeds the maximum allowed ({MAX_DEPTH})"
            )));
        }
        Ok(())
    }

    /// Reads `"key":`.
    pub(crate) fn parse_key(&mut self) -> Result<Cow<'a, str>> {
        match self.peek() {
            Some(b'"') => {}
            Some(b) => {
                return Err(self.unexpected(b, "was expecting double-quote to start field name"))
            }
            None => return Err(self.error("Unexpected end-of-input")),
        }
        let key = self.parse_string()?;
        self.expect(b':')?;
        Ok(key)
    }

    /// After an object member: `true` on `,`, `false` on `}`.
    pub(crate) fn object_continues(&mut self) -> Result<bool> {
        match self.peek() {
            Some(b',') => {
                self.pos += 1;
                Ok(true)
            }
            Some(b'}') => {
                self.pos += 1;
                Ok(false)
            }
            Some(b) => Err(self.unexpected(b, "was expecting comma to separate Object entries")),
            None => Err(self.error("Unexpected end-of-input: expected close marker for Object")),
        }
    }

    fn array_continues(&mut self) -> Result<bool> {
        match self.peek() {
            Some(b',') => {
                self.pos += 1;
                Ok(true)
            }
            Some(b']') => {
                self.pos += 1;
                Ok(false)
            }
            Some(b) => Err(self.unexpected(b, "was expecting comma to separate Array entries")),
            None => Err(self.error("Unexpected end-of-input: expected close marker for Array")),
        }
    }

    /// Starts reading an object: consumes `{` and tells whether it is empty (`{}` consumed).
    pub(crate) fn begin_object(&mut self) -> Result<Option<bool>> {
        if self.peek() != Some(b'{') {
            return Ok(None);
        }
        self.enter()?;
        self.pos += 1;
        if self.peek() == Some(b'}') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(Some(true));
        }
        Ok(Some(false))
    }

    /// Ends an object begun with [`Reader::begin_object`] after its last member.
    pub(crate) fn end_object(&mut self) {
        self.depth -= 1;
    }

    fn parse_literal(&mut self) -> Result<Node<'a>> {
        let rest = &self.input[self.pos..];
        for (word, node) in [
            (&b"true"[..], Node::Bool(true)),
            (b"false", Node::Bool(false)),
            (b"null", Node::Null),
        ] {
            if rest.starts_with(word)
                && !rest
                    .get(word.len())
                    .is_some_and(|b| b.is_ascii_alphanumeric())
            {
                self.pos += word.len();
                return Ok(node);
            }
        }
        let token: String = rest
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric())
            .map(|&b| b as char)
            .collect();
        if token.is_empty() {
            Err(self.unexpected(
                rest[0],
                "expected a valid value (JSON String, Number, Array, Object or token 'null', 'true' or 'false')",
            ))
        } else {
            Err(self.error(format_args!(
                "Unrecognized token '{token}': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')"
            )))
        }
    }

    fn parse_number(&mut self) -> Result<Node<'a>> {
        let start = self.pos;
        let bytes = self.input;
        let digits = |p: &mut usize| {
            let s = *p;
            while bytes.get(*p).is_some_and(u8::is_ascii_digit) {
                *p += 1;
            }
            *p - s
        };
        let mut p = self.pos;
        if bytes[p] == b'-' {
            p += 1;
        }
        let int_start = p;
        let int_digits = digits(&mut p);
        if int_digits == 0 {
            self.pos = p;
            return Err(self.error("Unexpected character: expected digit after '-'"));
        }
        if int_digits > 1 && bytes[int_start] == b'0' {
            self.pos = int_start;
            return Err(self.error("Invalid numeric value: Leading zeroes not allowed"));
        }
        let mut integral = true;
        if bytes.get(p) == Some(&b'.') {
            p += 1;
            integral = false;
            if digits(&mut p) == 0 {
                self.pos = p;
                return Err(
                    self.error("Unexpected character: Decimal point not followed by a digit")
                );
            }
        }
        if let Some(b'e' | b'E') = bytes.get(p) {
            p += 1;
            integral = false;
            if let Some(b'+' | b'-') = bytes.get(p) {
                p += 1;
            }
            if digits(&mut p) == 0 {
                self.pos = p;
                return Err(
                    self.error("Unexpected character: Exponent indicator not followed by a digit")
                );
            }
        }
        if bytes
            .get(p)
            .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'.')
        {
            self.pos = p;
            return Err(self.unexpected(bytes[p], "Expected space separating root-level values"));
        }
        self.pos = p;
        // The slice holds only ASCII digits, signs, '.', 'e': valid UTF-8.
        let text = std::str::from_utf8(&bytes[start..p]).expect("ASCII number");
        Ok(if !integral {
            Node::Float(text)
        } else {
            match text.parse::<i64>() {
                Ok(v) => Node::Int(v),
                Err(_) => Node::BigInt(text),
            }
        })
    }

    fn parse_string(&mut self) -> Result<Cow<'a, str>> {
        debug_assert_eq!(self.input[self.pos], b'"');
        self.pos += 1;
        let start = self.pos;
        // Fast path: no escapes, borrow.
        while let Some(&b) = self.input.get(self.pos) {
            match b {
                b'"' => {
                    let raw = &self.input[start..self.pos];
                    self.pos += 1;
                    return std::str::from_utf8(raw)
                        .map(Cow::Borrowed)
                        .map_err(|_| self.error("Invalid UTF-8 in string"));
                }
                b'\\' => break,
                0..=0x1f => {
                    return Err(self.error(format_args!(
                        "Illegal unquoted character ((CTRL-CHAR, code {b})): has to be escaped using backslash to be included in string value"
                    )))
                }
                _ => self.pos += 1,
            }
        }
        let mut out: Vec<u8> = self.input[start..self.pos].to_vec();
        loop {
            let Some(&b) = self.input.get(self.pos) else {
                return Err(self.error(
                    "Unexpected end-of-input: was expecting closing quote for a string value",
                ));
            };
            self.pos += 1;
            match b {
                b'"' => break,
                b'\\' => {
                    let Some(&e) = self.input.get(self.pos) else {
                        return Err(self.error("Unexpected end-of-input in character escape sequence"));
                    };
                    self.pos += 1;
                    let c = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => self.parse_unicode_escape()?,
                        other => {
                            return Err(self.error(format_args!(
                                "Unrecognized character escape '{}' (code {other})",
                                other as char
                            )))
                        }
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
                0..=0x1f => {
                    return Err(self.error(format_args!(
                        "Illegal unquoted character ((CTRL-CHAR, code {b})): has to be escaped using backslash to be included in string value"
                    )))
                }
                _ => out.push(b),
            }
        }
        String::from_utf8(out)
            .map(Cow::Owned)
            .map_err(|_| self.error("Invalid UTF-8 in string"))
    }

    fn hex4(&mut self) -> Result<u32> {
        let Some(hex) = self.input.get(self.pos..self.pos + 4) else {
            return Err(self.error("Unexpected end-of-input in character escape sequence"));
        };
        let text = std::str::from_utf8(hex).ok();
        let v = text
            .and_then(|t| u32::from_str_radix(t, 16).ok())
            .ok_or_else(|| {
                self.error("Unexpected character in \\u escape: expected a hex-digit")
            })?;
        self.pos += 4;
        Ok(v)
    }

    /// `\uXXXX`, joining surrogate pairs; a lone surrogate (legal in a Java string, not in Rust's)
    /// becomes U+FFFD.
    fn parse_unicode_escape(&mut self) -> Result<char> {
        let hi = self.hex4()?;
        if (0xD800..0xDC00).contains(&hi) && self.input[self.pos..].starts_with(b"\\u") {
            let save = self.pos;
            self.pos += 2;
            let lo = self.hex4()?;
            if (0xDC00..0xE000).contains(&lo) {
                let c = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                return Ok(char::from_u32(c).unwrap_or('\u{FFFD}'));
            }
            self.pos = save;
        }
        Ok(char::from_u32(hi).unwrap_or('\u{FFFD}'))
    }
}

/// Parses one JSON document as Jackson's `readTree` does: `None` for empty input (a missing
/// node), anything after the first value ignored.
pub(crate) fn parse_document(input: &[u8]) -> Result<Option<Node<'_>>> {
    let mut r = Reader::new(input);
    if r.at_end() {
        return Ok(None);
    }
    r.parse_value().map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Node<'_> {
        parse_document(s.as_bytes()).unwrap().unwrap()
    }

    #[test]
    fn reads_every_kind() {
        assert_eq!(
            parse(r#" {"a":[1,-2.5e3,true,null,"x\n\u00e9\ud83d\ude00"],"b":{}} "#),
            Node::Object(vec![
                (
                    "a".into(),
                    Node::Array(vec![
                        Node::Int(1),
                        Node::Float("-2.5e3"),
                        Node::Bool(true),
                        Node::Null,
                        Node::Str("x\né😀".into()),
                    ])
                ),
                ("b".into(), Node::Object(vec![])),
            ])
        );
        assert_eq!(
            parse("99999999999999999999"),
            Node::BigInt("99999999999999999999")
        );
    }

    #[test]
    fn later_duplicate_key_replaces_in_place() {
        assert_eq!(
            parse(r#"{"a":1,"b":2,"a":3}"#),
            Node::Object(vec![("a".into(), Node::Int(3)), ("b".into(), Node::Int(2))])
        );
    }

    #[test]
    fn rejects_malformed_input() {
        for bad in [
            "{",
            "[1,]",
            "01",
            "1.",
            "-",
            "tru",
            "\"a",
            "{\"a\" 1}",
            "{a:1}",
            "\"\u{1}\"",
            "1x",
        ] {
            assert!(parse_document(bad.as_bytes()).is_err(), "{bad}");
        }
        assert_eq!(parse_document(b"  ").unwrap(), None);
        assert_eq!(parse("1 trailing"), Node::Int(1));
    }

    #[test]
    fn skip_returns_raw_bytes() {
        let mut r = Reader::new(br#"{"x": [1, {"y":"}"}] , "z":1}"#);
        assert_eq!(r.begin_object().unwrap(), Some(false));
        assert_eq!(r.parse_key().unwrap(), "x");
        assert_eq!(r.skip_value().unwrap(), br#"[1, {"y":"}"}]"#);
    }
}
