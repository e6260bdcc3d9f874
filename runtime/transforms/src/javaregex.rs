//! Java `java.util.regex` semantics on top of the `regex` crate, as far as Connect configs need
//! them: `matches()` is a whole-string match (we anchor with `^(?:…)$`), and replacements use
//! Java's `$1` / `${name}` group references with `\` escaping (translated here, since the `regex`
//! crate would read `$1a` as a group named `1a`). Java-only syntax such as look-around and
//! back-references is rejected at configuration time with the key named.

use ferry_api::ConnectError;
use regex::{Captures, Regex};

/// A pattern with Java `matches()` semantics.
#[derive(Debug, Clone)]
pub(crate) struct FullMatch {
    regex: Regex,
}

impl FullMatch {
    /// Compiles `pattern`; the error names configuration `key`.
    pub(crate) fn new(key: &str, pattern: &str) -> Result<Self, ConnectError> {
        Regex::new(&format!("^(?:{pattern})$"))
            .map(|regex| FullMatch { regex })
            .map_err(|e| {
                ConnectError::config(format!(
                    "Invalid value {pattern} for configuration {key}: Invalid regex: {e}"
                ))
            })
    }

    /// Whether the whole of `s` matches.
    pub(crate) fn matches(&self, s: &str) -> bool {
        self.regex.is_match(s)
    }

    /// `Matcher.matches()` then `replaceFirst(replacement)`: `Some(result)` when `s` matches as a
    /// whole (so the match is all of `s` and the result is the expanded replacement).
    pub(crate) fn replace_whole(&self, s: &str, replacement: &str) -> Option<String> {
        let caps = self.regex.captures(s)?;
        Some(expand_java(&caps, replacement))
    }
}

/// Expands a Java replacement string: `$n` (digits read greedily while they name an existing
/// group), `${name}`, `\x` for a literal `x`. Unknown groups expand to nothing.
pub(crate) fn expand_java(caps: &Captures<'_>, replacement: &str) -> String {
    let mut out = String::with_capacity(replacement.len());
    let mut chars = replacement.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            '$' => {
                if chars.peek() == Some(&'{') {
                    chars.next();
                    let name: String = chars.by_ref().take_while(|&c| c != '}').collect();
                    out.push_str(caps.name(&name).map_or("", |m| m.as_str()));
                } else {
                    let mut group: Option<usize> = None;
                    while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
                        let next = group.unwrap_or(0) * 10 + d as usize;
                        if group.is_some() && next >= caps.len() {
                            break;
                        }
                        group = Some(next);
                        chars.next();
                    }
                    match group {
                        Some(g) => out.push_str(caps.get(g).map_or("", |m| m.as_str())),
                        None => out.push('$'),
                    }
                }
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_match_and_java_replacement() {
        let cases = [
            // (pattern, replacement, input, expected)
            ("(.*)-(.*)", "$2_$1", "a-b", Some("b_a")),
            ("logs-(.*)", "$1a", "logs-x", Some("xa")),
            (
                "(?<t>.*)\\.raw",
                "${t}.clean",
                "orders.raw",
                Some("orders.clean"),
            ),
            ("a(.)", "\\$1=$1", "ab", Some("$1=b")),
            (
                "(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)",
                "$10-$11",
                "abcdefghij",
                Some("j-a1"),
            ),
            ("abc", "x", "xabcx", None),
            ("abc", "x", "abcd", None),
        ];
        for (pattern, replacement, input, expected) in cases {
            let re = FullMatch::new("regex", pattern).unwrap();
            assert_eq!(
                re.replace_whole(input, replacement).as_deref(),
                expected,
                "{pattern} {replacement} {input}"
            );
        }
    }

    #[test]
    fn invalid_pattern_names_the_key() {
        let err = FullMatch::new("regex", "(a").unwrap_err();
        assert!(err
            .message()
            .starts_with("Invalid value (a for configuration regex: Invalid regex"));
    }
}
