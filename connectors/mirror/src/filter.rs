//! Topic and group filters (`DefaultTopicFilter`, `DefaultGroupFilter`): include and exclude lists
//! of Java regular expressions, each matched against the whole name.

use ferry_api::{ConnectError, Result};
use regex::Regex;

/// A list of patterns; matches when any pattern matches the whole name.
#[derive(Debug, Clone)]
pub struct PatternList(Option<Regex>);

impl PatternList {
    /// Compiles `patterns` (from the config key `key`, named in errors).
    pub fn new(key: &str, patterns: &[String]) -> Result<Self> {
        let patterns: Vec<&str> = patterns
            .iter()
            .map(|p| p.trim())
            .filter(|p| !p.is_empty())
            .collect();
        if patterns.is_empty() {
            return Ok(PatternList(None));
        }
        let joined = format!("^(?:{})$", patterns.join("|"));
        Regex::new(&joined)
            .map(|r| PatternList(Some(r)))
            .map_err(|e| {
                ConnectError::config(format!(
                    "Invalid value {} for configuration {key}: {e}",
                    patterns.join(",")
                ))
            })
    }

    /// Whether `name` matches one of the patterns.
    pub fn matches(&self, name: &str) -> bool {
        self.0.as_ref().is_some_and(|r| r.is_match(name))
    }
}

/// Include minus exclude.
#[derive(Debug, Clone)]
pub struct NameFilter {
    include: PatternList,
    exclude: PatternList,
}

impl NameFilter {
    /// A filter from the include key/list and the exclude key/list.
    pub fn new(
        include_key: &str,
        include: &[String],
        exclude_key: &str,
        exclude: &[String],
    ) -> Result<Self> {
        Ok(NameFilter {
            include: PatternList::new(include_key, include)?,
            exclude: PatternList::new(exclude_key, exclude)?,
        })
    }

    /// Whether `name` passes.
    pub fn accepts(&self, name: &str) -> bool {
        self.include.matches(name) && !self.exclude.matches(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(s: &str) -> Vec<String> {
        s.split(',').map(str::to_owned).collect()
    }

    #[test]
    fn default_topic_filter() {
        let f = NameFilter::new(
            "topics",
            &list(".*"),
            "topics.exclude",
            &list(".*[\\-\\.]internal, .*\\.replica, __.*"),
        )
        .unwrap();
        let cases = [
            ("orders", true),
            ("A.orders", true),
            ("mm2-offsets.A.internal", false),
            ("x-internal", false),
            ("t.replica", false),
            ("__consumer_offsets", false),
        ];
        for (name, want) in cases {
            assert_eq!(f.accepts(name), want, "{name}");
        }
    }

    #[test]
    fn patterns_match_whole_names() {
        let f = NameFilter::new("groups", &list("app"), "groups.exclude", &[]).unwrap();
        assert!(f.accepts("app"));
        assert!(!f.accepts("app2"));
        assert!(!f.accepts("my-app"));
    }

    #[test]
    fn bad_pattern_names_the_key() {
        let err = NameFilter::new("topics", &list("("), "topics.exclude", &[]).unwrap_err();
        assert!(err.message().contains("configuration topics"), "{err}");
    }
}
