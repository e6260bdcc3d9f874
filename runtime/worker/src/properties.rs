//! Java `.properties` files, parsed exactly as `java.util.Properties.load` does.
//!
//! Worker configs and connector configs given on the command line are `.properties` files written
//! for Kafka Connect, so they must mean the same thing here (COMPAT §13 item 3). The rules that
//! differ from INI-style parsers and therefore each have a test:
//!
//! * `#` and `!` start a comment only as the first non-blank character of a line;
//!   `key = value # note` keeps `# note` in the value.
//! * The key ends at the first unescaped `=`, `:` or blank (space, tab, form feed). Blanks around
//!   the separator are skipped, and one `=`/`:` after a blank separator is swallowed too.
//! * A line ending in an odd number of backslashes continues on the next line, whose leading blanks
//!   are dropped. At the end of the input such a backslash is simply dropped.
//! * Escapes: `\t \n \r \f`, `\uXXXX` (UTF-16 code units; surrogate pairs combine), and `\x` → `x`
//!   for any other character (so `\=`, `\:`, `\ ` and `\#` put those characters into a key).
//! * Lines end at `\n`, `\r` or `\r\n`; blank lines are skipped; the last duplicate key wins.
//!
//! One deliberate difference: Kafka loads files through an `InputStream`, which Java decodes as
//! ISO-8859-1, so raw UTF-8 text in a Java-read file turns into mojibake. [`load_properties`] reads
//! UTF-8 when the file is valid UTF-8 (what its author meant) and falls back to ISO-8859-1
//! otherwise. `\uXXXX` escapes, the portable way to write non-ASCII, mean the same in both.

use std::path::{Path, PathBuf};

use ferry_api::Props;

/// Why a `.properties` text or file could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PropertiesError {
    /// The text has a malformed escape (the only syntax error Java reports).
    #[error("line {line}: {message}")]
    Syntax {
        /// 1-based physical line where the faulty logical line starts.
        line: usize,
        /// What is wrong, naming the key.
        message: String,
    },
    /// Like [`PropertiesError::Syntax`], in a named file.
    #[error("{}:{line}: {message}", path.display())]
    FileSyntax {
        /// The file.
        path: PathBuf,
        /// 1-based physical line where the faulty logical line starts.
        line: usize,
        /// What is wrong, naming the key.
        message: String,
    },
    /// The file could not be read.
    #[error("cannot read properties file {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

/// Parses `.properties` text with `java.util.Properties.load` semantics.
pub fn parse_properties(text: &str) -> Result<Props, PropertiesError> {
    let chars: Vec<char> = text.chars().collect();
    let mut props = Props::new();
    for line in logical_lines(&chars) {
        let (key, value) = split_key_value(&line.chars);
        let key = unescape(key).map_err(|problem| PropertiesError::Syntax {
            line: line.number,
            message: format!("{problem} in key `{}`", String::from_iter(key)),
        })?;
        let value = unescape(value).map_err(|problem| PropertiesError::Syntax {
            line: line.number,
            message: format!("{problem} in the value of `{key}`"),
        })?;
        props.insert(key, value);
    }
    Ok(props)
}

/// Reads and parses a `.properties` file; errors name the file (and line, for syntax errors).
pub fn load_properties(path: &Path) -> Result<Props, PropertiesError> {
    let bytes = std::fs::read(path).map_err(|source| PropertiesError::Io {
        path: path.to_owned(),
        source,
    })?;
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        // ISO-8859-1: every byte is the code point of the same number, as Java decodes it.
        Err(not_utf8) => not_utf8
            .into_bytes()
            .iter()
            .map(|&b| char::from(b))
            .collect(),
    };
    parse_properties(&text).map_err(|err| match err {
        PropertiesError::Syntax { line, message } => PropertiesError::FileSyntax {
            path: path.to_owned(),
            line,
            message,
        },
        other => other,
    })
}

/// One logical line: physical lines joined at continuations, comments and blank lines gone,
/// leading blanks and continuation backslashes removed, escapes still in place.
struct LogicalLine {
    /// 1-based physical line of its first character.
    number: usize,
    chars: Vec<char>,
}

fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\u{c}')
}

fn is_eol(c: char) -> bool {
    matches!(c, '\n' | '\r')
}

/// Splits text into logical lines, following the state machine of Java's `Properties.LineReader`
/// (including its corner cases, e.g. a `#` right after a line holding only `\` is a comment).
fn logical_lines(text: &[char]) -> Vec<LogicalLine> {
    let line_number = PhysicalLines::new(text);
    let mut lines = Vec::new();
    let mut i = 0;
    let mut buf: Vec<char> = Vec::new();
    let mut start = 0;
    // Skipping blanks at the start of a logical line or of a continuation line.
    let mut skip_blanks = true;
    // At the start of a continuation line, where an empty line ends the logical line instead of
    // being skipped.
    let mut continuation = false;
    // Whether the characters so far end in an odd number of backslashes.
    let mut odd_backslashes = false;
    let finish = |buf: &mut Vec<char>, start: usize, odd: bool, lines: &mut Vec<LogicalLine>| {
        if odd {
            buf.pop();
        }
        lines.push(LogicalLine {
            number: line_number.at(start),
            chars: std::mem::take(buf),
        });
    };
    while i < text.len() {
        let c = text[i];
        i += 1;
        if skip_blanks {
            if is_blank(c) || (!continuation && is_eol(c)) {
                continue;
            }
            skip_blanks = false;
            continuation = false;
        }
        if buf.is_empty() && (c == '#' || c == '!') {
            // A comment runs to the end of its physical line.
            while i < text.len() && !is_eol(text[i]) {
                i += 1;
            }
            i += 1;
            skip_blanks = true;
            continue;
        }
        if !is_eol(c) {
            if buf.is_empty() {
                start = i - 1;
            }
            buf.push(c);
            odd_backslashes = c == '\\' && !odd_backslashes;
            continue;
        }
        if buf.is_empty() {
            skip_blanks = true;
            continue;
        }
        if i >= text.len() {
            break;
        }
        if odd_backslashes {
            buf.pop();
            odd_backslashes = false;
            skip_blanks = true;
            continuation = true;
            if c == '\r' && text[i] == '\n' {
                i += 1;
            }
        } else {
            finish(&mut buf, start, false, &mut lines);
            skip_blanks = true;
        }
    }
    if !buf.is_empty() {
        finish(&mut buf, start, odd_backslashes, &mut lines);
    }
    lines
}

/// Maps a character index to its 1-based physical line (`\n`, `\r` and `\r\n` end lines).
struct PhysicalLines {
    /// Index of the first character of each physical line after the first.
    starts: Vec<usize>,
}

impl PhysicalLines {
    fn new(text: &[char]) -> Self {
        let mut starts = Vec::new();
        for (i, &c) in text.iter().enumerate() {
            let crlf = c == '\r' && text.get(i + 1) == Some(&'\n');
            if is_eol(c) && !crlf {
                starts.push(i + 1);
            }
        }
        Self { starts }
    }

    fn at(&self, index: usize) -> usize {
        self.starts.partition_point(|&s| s <= index) + 1
    }
}

/// Splits a logical line into its (still escaped) key and value, as `Properties.load0` does.
fn split_key_value(line: &[char]) -> (&[char], &[char]) {
    let mut key_end = line.len();
    let mut value_start = line.len();
    let mut has_separator = false;
    let mut escaped = false;
    for (i, &c) in line.iter().enumerate() {
        if !escaped && (c == '=' || c == ':' || is_blank(c)) {
            key_end = i;
            value_start = i + 1;
            has_separator = c == '=' || c == ':';
            break;
        }
        escaped = c == '\\' && !escaped;
    }
    while let Some(&c) = line.get(value_start) {
        if is_blank(c) {
            value_start += 1;
        } else if !has_separator && (c == '=' || c == ':') {
            has_separator = true;
            value_start += 1;
        } else {
            break;
        }
    }
    (&line[..key_end], &line[value_start..])
}

/// Resolves escapes. `\uXXXX` yields a UTF-16 code unit; pairs combine and a lone surrogate
/// becomes U+FFFD (Java keeps it, but it cannot be encoded anywhere downstream either).
fn unescape(escaped: &[char]) -> Result<String, String> {
    fn push(units: &mut Vec<u16>, c: char) {
        let mut buf = [0u16; 2];
        units.extend_from_slice(c.encode_utf16(&mut buf));
    }
    let mut units: Vec<u16> = Vec::with_capacity(escaped.len());
    let mut chars = escaped.iter().copied();
    while let Some(c) = chars.next() {
        if c != '\\' {
            push(&mut units, c);
            continue;
        }
        // A lone trailing backslash cannot survive line splitting; drop it if it ever does.
        let Some(c) = chars.next() else { break };
        let c = match c {
            't' => '\t',
            'n' => '\n',
            'r' => '\r',
            'f' => '\u{c}',
            'u' => {
                let hex: String = chars.by_ref().take(4).collect();
                let unit = Some(&hex)
                    .filter(|h| h.len() == 4 && h.chars().all(|d| d.is_ascii_hexdigit()))
                    .and_then(|h| u16::from_str_radix(h, 16).ok())
                    .ok_or_else(|| format!("malformed \\uxxxx encoding `\\u{hex}`"))?;
                units.push(unit);
                continue;
            }
            other => other,
        };
        push(&mut units, c);
    }
    Ok(String::from_utf16_lossy(&units))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Vec<(String, String)> {
        parse_properties(text)
            .unwrap_or_else(|e| panic!("{text:?} failed: {e}"))
            .into_iter()
            .collect()
    }

    fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = expected
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn each_rule_matches_java() {
        /// (rule, text, expected key/value pairs)
        type Case<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)]);
        let cases: &[Case] = &[
            ("equals separator", "a=b", &[("a", "b")]),
            ("colon separator", "a:b", &[("a", "b")]),
            ("blank separator", "a b", &[("a", "b")]),
            ("tab separator", "a\tb", &[("a", "b")]),
            ("blanks around separator", "a  =  b", &[("a", "b")]),
            ("blank then colon", "a   :   b", &[("a", "b")]),
            (
                "only the first separator is swallowed",
                "a = = b",
                &[("a", "= b")],
            ),
            ("colon then equals kept", "a:=b", &[("a", "=b")]),
            ("blank, equals, equals", "a =\t=b", &[("a", "=b")]),
            ("trailing blanks kept", "a=b  ", &[("a", "b  ")]),
            ("key only", "lonely", &[("lonely", "")]),
            ("key and separator only", "k=", &[("k", "")]),
            ("empty key", "=v", &[("", "v")]),
            ("leading blanks skipped", "   \t\u{c}a=b", &[("a", "b")]),
            (
                "indented later line",
                "a=1\n  b=2",
                &[("a", "1"), ("b", "2")],
            ),
            ("hash comment", "# a=b\nc=d", &[("c", "d")]),
            ("bang comment", "! a=b\nc=d", &[("c", "d")]),
            ("indented comment", "   # a=b\nc=d", &[("c", "d")]),
            (
                "hash inside value kept",
                "key = value # note",
                &[("key", "value # note")],
            ),
            ("hash inside key kept", "a#b=c", &[("a#b", "c")]),
            ("blank lines skipped", "\n\n  \na=b\n\n", &[("a", "b")]),
            ("crlf lines", "a=1\r\nb=2\r\n", &[("a", "1"), ("b", "2")]),
            ("cr lines", "a=1\rb=2", &[("a", "1"), ("b", "2")]),
            ("continuation", "a=one \\\n    two", &[("a", "one two")]),
            ("continuation crlf", "a=x\\\r\n  y", &[("a", "xy")]),
            ("continuation in key", "ke\\\n  y=v", &[("key", "v")]),
            ("double continuation", "a=1\\\n 2\\\n 3", &[("a", "123")]),
            (
                "even backslashes do not continue",
                "a=x\\\\\nb=y",
                &[("a", "x\\"), ("b", "y")],
            ),
            (
                "three backslashes continue",
                "a=x\\\\\\\n y",
                &[("a", "x\\y")],
            ),
            (
                "continuation into empty line ends it",
                "a=x\\\n\nb=y",
                &[("a", "x"), ("b", "y")],
            ),
            (
                "hash on continuation line kept",
                "a=x\\\n # y",
                &[("a", "x# y")],
            ),
            ("backslash at end of input dropped", "a=x\\", &[("a", "x")]),
            ("escapes t n r f", "a=\\t\\n\\r\\f", &[("a", "\t\n\r\u{c}")]),
            ("unicode escape", "a=caf\\u00e9", &[("a", "café")]),
            ("unicode escape upper hex", "a=\\u00C9", &[("a", "É")]),
            ("surrogate pair escape", "a=\\uD83D\\uDE00", &[("a", "😀")]),
            (
                "lone surrogate replaced",
                "a=\\uD83D!",
                &[("a", "\u{fffd}!")],
            ),
            (
                "other escapes drop the backslash",
                "a=\\.\\q\\\\",
                &[("a", ".q\\")],
            ),
            (
                "regex value",
                "r=^db\\\\.inv\\\\..*",
                &[("r", "^db\\.inv\\..*")],
            ),
            ("escaped equals in key", "a\\=b=c", &[("a=b", "c")]),
            ("escaped colon in key", "a\\:b:c", &[("a:b", "c")]),
            ("escaped blank in key", "a\\ b c", &[("a b", "c")]),
            ("escaped hash key", "\\#a=b", &[("#a", "b")]),
            ("value separators kept", "a=b=c:d e", &[("a", "b=c:d e")]),
            ("last duplicate wins", "a=1\na=2", &[("a", "2")]),
            ("utf8 passes through", "名前=値", &[("名前", "値")]),
            ("comment after a lone-backslash line", "\\\n#c=d", &[]),
            (
                "connect sample",
                "name=local-file-source\nconnector.class=FileStreamSource\ntasks.max=1\n",
                &[
                    ("name", "local-file-source"),
                    ("connector.class", "FileStreamSource"),
                    ("tasks.max", "1"),
                ],
            ),
        ];
        for (rule, text, expected) in cases {
            assert_eq!(parse(text), pairs(expected), "rule: {rule}, text: {text:?}");
        }
    }

    #[test]
    fn malformed_unicode_escape_names_line_and_key() {
        let cases: &[(&str, usize, &str)] = &[
            (
                "a=1\nb=\\u12G4",
                2,
                "line 2: malformed \\uxxxx encoding `\\u12G4` in the value of `b`",
            ),
            (
                "# c\n\nk\\u12=v",
                3,
                "line 3: malformed \\uxxxx encoding `\\u12` in key `k\\u12`",
            ),
            (
                "a=\\\n  \\u",
                1,
                "line 1: malformed \\uxxxx encoding `\\u` in the value of `a`",
            ),
        ];
        for (text, line, message) in cases {
            let err = parse_properties(text).unwrap_err();
            assert!(
                matches!(err, PropertiesError::Syntax { line: l, .. } if l == *line),
                "{text:?}: {err:?}"
            );
            assert_eq!(err.to_string(), *message);
        }
    }

    #[test]
    fn loads_fixture_file() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/connect-standalone.properties");
        let props = load_properties(&path).unwrap();
        let expected = pairs(&[
            ("bootstrap.servers", "localhost:9092"),
            (
                "key.converter",
                "org.apache.kafka.connect.json.JsonConverter",
            ),
            (
                "value.converter",
                "org.apache.kafka.connect.json.JsonConverter",
            ),
            ("key.converter.schemas.enable", "true"),
            ("offset.storage.file.filename", "/tmp/connect.offsets"),
            ("offset.flush.interval.ms", "10000"),
            ("plugin.path", "/usr/share/java,/opt/connectors"),
            ("transforms.route.regex", "^(.*)\\.inventory\\.(.*)$"),
            ("motd", "café # not a comment"),
        ]);
        assert_eq!(props.into_iter().collect::<Vec<_>>(), expected);
    }

    #[test]
    fn file_errors_name_the_file() {
        let missing = Path::new("/nonexistent/ferry/worker.properties");
        let err = load_properties(missing).unwrap_err();
        assert!(matches!(err, PropertiesError::Io { .. }));
        assert!(
            err.to_string()
                .starts_with("cannot read properties file /nonexistent/ferry/worker.properties: "),
            "{err}"
        );

        let path =
            std::env::temp_dir().join(format!("ferry-props-{}.properties", std::process::id()));
        std::fs::write(&path, "ok=1\nbad=\\uXYZW\n").unwrap();
        let err = load_properties(&path).unwrap_err();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(
            err.to_string(),
            format!(
                "{}:2: malformed \\uxxxx encoding `\\uXYZW` in the value of `bad`",
                path.display()
            )
        );
    }

    #[test]
    fn non_utf8_file_is_read_as_latin1() {
        let path =
            std::env::temp_dir().join(format!("ferry-latin1-{}.properties", std::process::id()));
        std::fs::write(&path, b"name=caf\xe9\n").unwrap();
        let props = load_properties(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(props.get("name").map(String::as_str), Some("café"));
    }
}
