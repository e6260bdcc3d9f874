//! Typed configuration, after Kafka's `ConfigDef`: every plugin declares its keys once (name, type,
//! default, importance, documentation, group, validator) and that one declaration drives parsing,
//! REST validation (`PUT /connector-plugins/{type}/config/validate`), `GET .../config` and the docs.
//!
//! Parsing follows Java's rules: values are trimmed, lists split on commas with surrounding spaces
//! dropped, booleans are case-insensitive, and unknown keys are kept (Connect passes them through).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crate::error::{ConnectError, Result};
use crate::Props;

/// The declared type of a key (upper-case Java names on the REST API).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigType {
    Boolean,
    String,
    Int,
    Short,
    Long,
    Double,
    List,
    Class,
    Password,
}

impl ConfigType {
    /// The Java enum name.
    pub fn java_name(self) -> &'static str {
        match self {
            ConfigType::Boolean => "BOOLEAN",
            ConfigType::String => "STRING",
            ConfigType::Int => "INT",
            ConfigType::Short => "SHORT",
            ConfigType::Long => "LONG",
            ConfigType::Double => "DOUBLE",
            ConfigType::List => "LIST",
            ConfigType::Class => "CLASS",
            ConfigType::Password => "PASSWORD",
        }
    }
}

/// How much a key matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Importance {
    High,
    Medium,
    Low,
}

impl Importance {
    /// The Java enum name.
    pub fn java_name(self) -> &'static str {
        match self {
            Importance::High => "HIGH",
            Importance::Medium => "MEDIUM",
            Importance::Low => "LOW",
        }
    }
}

/// Display width hint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Width {
    None,
    Short,
    Medium,
    Long,
}

impl Width {
    /// The Java enum name.
    pub fn java_name(self) -> &'static str {
        match self {
            Width::None => "NONE",
            Width::Short => "SHORT",
            Width::Medium => "MEDIUM",
            Width::Long => "LONG",
        }
    }
}

/// A parsed value.
#[derive(Debug, Clone, PartialEq)]
pub enum ParsedValue {
    /// No value (a key with a null default).
    Null,
    Boolean(bool),
    String(String),
    Int(i32),
    Short(i16),
    Long(i64),
    Double(f64),
    List(Vec<String>),
    /// A class name (or alias).
    Class(String),
    /// A secret; never printed.
    Password(String),
}

impl ParsedValue {
    /// The value as Connect prints it in validation answers (lists comma-joined, passwords hidden).
    pub fn display(&self) -> Option<String> {
        match self {
            ParsedValue::Null => None,
            ParsedValue::Boolean(b) => Some(b.to_string()),
            ParsedValue::String(s) | ParsedValue::Class(s) => Some(s.clone()),
            ParsedValue::Int(v) => Some(v.to_string()),
            ParsedValue::Short(v) => Some(v.to_string()),
            ParsedValue::Long(v) => Some(v.to_string()),
            ParsedValue::Double(v) => Some(v.to_string()),
            ParsedValue::List(l) => Some(l.join(",")),
            ParsedValue::Password(_) => Some("[hidden]".into()),
        }
    }
    fn as_f64(&self) -> Option<f64> {
        match *self {
            ParsedValue::Int(v) => Some(v as f64),
            ParsedValue::Short(v) => Some(v as f64),
            ParsedValue::Long(v) => Some(v as f64),
            ParsedValue::Double(v) => Some(v),
            _ => None,
        }
    }
}

/// A custom validation function: given the key name and parsed value, an error message or Ok.
pub type ValidatorFn =
    Arc<dyn Fn(&str, &ParsedValue) -> std::result::Result<(), String> + Send + Sync>;

/// Checks a parsed value.
#[derive(Clone)]
pub enum Validator {
    /// Numeric range, inclusive; either bound optional.
    Range { min: Option<f64>, max: Option<f64> },
    /// One of these strings, compared case-insensitively (Connect's `CaseInsensitiveValidString`).
    OneOf(Vec<&'static str>),
    /// A non-empty string.
    NonEmptyString,
    /// Anything else.
    Custom(ValidatorFn),
}

impl fmt::Debug for Validator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Validator::Range { min, max } => write!(f, "Range({min:?}, {max:?})"),
            Validator::OneOf(v) => write!(f, "OneOf({v:?})"),
            Validator::NonEmptyString => f.write_str("NonEmptyString"),
            Validator::Custom(_) => f.write_str("Custom"),
        }
    }
}

impl Validator {
    /// A lower bound.
    pub fn at_least(min: f64) -> Self {
        Validator::Range {
            min: Some(min),
            max: None,
        }
    }
    /// Checks `value` of key `name`.
    pub fn check(&self, name: &str, value: &ParsedValue) -> std::result::Result<(), String> {
        match self {
            Validator::Range { min, max } => {
                let Some(v) = value.as_f64() else {
                    return Ok(());
                };
                let fmt_bound = |b: f64| {
                    if b.fract() == 0.0 {
                        format!("{}", b as i64)
                    } else {
                        b.to_string()
                    }
                };
                if let Some(min) = min {
                    if v < *min {
                        return Err(format!("Value must be at least {}", fmt_bound(*min)));
                    }
                }
                if let Some(max) = max {
                    if v > *max {
                        return Err(format!("Value must be no more than {}", fmt_bound(*max)));
                    }
                }
                Ok(())
            }
            Validator::OneOf(allowed) => {
                let check_one = |s: &str| {
                    if allowed.iter().any(|a| a.eq_ignore_ascii_case(s)) {
                        Ok(())
                    } else {
                        Err(format!(
                            "String must be one of (case insensitive): {}",
                            allowed.join(", ")
                        ))
                    }
                };
                match value {
                    ParsedValue::String(s) => check_one(s),
                    ParsedValue::List(l) => l.iter().try_for_each(|s| check_one(s)),
                    _ => Ok(()),
                }
            }
            Validator::NonEmptyString => match value {
                ParsedValue::String(s) if s.is_empty() => Err("String must be non-empty".into()),
                _ => Ok(()),
            },
            Validator::Custom(f) => f(name, value),
        }
    }
}

/// One declared key.
#[derive(Debug, Clone)]
pub struct ConfigKey {
    /// Key name.
    pub name: String,
    /// Type.
    pub config_type: ConfigType,
    /// Default as text; `None` means the key is required.
    pub default: Option<String>,
    /// Whether the default is Java `null` (the key is optional and unset).
    pub default_is_null: bool,
    /// Importance.
    pub importance: Importance,
    /// Documentation.
    pub documentation: String,
    /// Group name.
    pub group: Option<String>,
    /// Order within the group.
    pub order: i32,
    /// Width hint.
    pub width: Width,
    /// Display name (defaults to the key name).
    pub display_name: String,
    /// Keys whose validity depends on this one.
    pub dependents: Vec<String>,
    /// Validator.
    pub validator: Option<Validator>,
}

impl ConfigKey {
    /// A required key of `config_type` (give it a default with [`ConfigKey::default`]).
    pub fn new(name: impl Into<String>, config_type: ConfigType) -> Self {
        let name = name.into();
        ConfigKey {
            display_name: name.clone(),
            name,
            config_type,
            default: None,
            default_is_null: false,
            importance: Importance::Medium,
            documentation: String::new(),
            group: None,
            order: -1,
            width: Width::None,
            dependents: Vec::new(),
            validator: None,
        }
    }
    /// Sets the default (as text, parsed like any value).
    pub fn default(mut self, value: impl Into<String>) -> Self {
        self.default = Some(value.into());
        self.default_is_null = false;
        self
    }
    /// Makes the key optional with a Java `null` default.
    pub fn default_null(mut self) -> Self {
        self.default = None;
        self.default_is_null = true;
        self
    }
    /// Sets the importance.
    pub fn importance(mut self, importance: Importance) -> Self {
        self.importance = importance;
        self
    }
    /// Sets the documentation.
    pub fn doc(mut self, doc: impl Into<String>) -> Self {
        self.documentation = doc.into();
        self
    }
    /// Sets group and order within it.
    pub fn group(mut self, group: impl Into<String>, order: i32) -> Self {
        self.group = Some(group.into());
        self.order = order;
        self
    }
    /// Sets the width.
    pub fn width(mut self, width: Width) -> Self {
        self.width = width;
        self
    }
    /// Sets the display name.
    pub fn display_name(mut self, name: impl Into<String>) -> Self {
        self.display_name = name.into();
        self
    }
    /// Sets the validator.
    pub fn validator(mut self, validator: Validator) -> Self {
        self.validator = Some(validator);
        self
    }
    /// Whether the key has no default.
    pub fn is_required(&self) -> bool {
        self.default.is_none() && !self.default_is_null
    }

    /// Parses a raw value with Java's rules; the error is Connect's message for the key.
    pub fn parse_value(&self, raw: &str) -> std::result::Result<ParsedValue, String> {
        let t = raw.trim();
        let bad = |what: &str| format!("Invalid value {t} for configuration {}: {what}", self.name);
        let v = match self.config_type {
            ConfigType::Boolean => {
                if t.eq_ignore_ascii_case("true") {
                    ParsedValue::Boolean(true)
                } else if t.eq_ignore_ascii_case("false") {
                    ParsedValue::Boolean(false)
                } else {
                    return Err(bad("Expected value to be either true or false"));
                }
            }
            ConfigType::String => ParsedValue::String(t.to_owned()),
            ConfigType::Password => ParsedValue::Password(raw.to_owned()),
            ConfigType::Class => ParsedValue::Class(t.to_owned()),
            ConfigType::Int => {
                ParsedValue::Int(t.parse().map_err(|_| bad("Not a number of type INT"))?)
            }
            ConfigType::Short => {
                ParsedValue::Short(t.parse().map_err(|_| bad("Not a number of type SHORT"))?)
            }
            ConfigType::Long => {
                ParsedValue::Long(t.parse().map_err(|_| bad("Not a number of type LONG"))?)
            }
            ConfigType::Double => {
                ParsedValue::Double(t.parse().map_err(|_| bad("Not a number of type DOUBLE"))?)
            }
            ConfigType::List => ParsedValue::List(split_list(t)),
        };
        if let Some(validator) = &self.validator {
            validator.check(&self.name, &v).map_err(|msg| {
                let shown = if self.config_type == ConfigType::Password {
                    "[hidden]"
                } else {
                    t
                };
                format!(
                    "Invalid value {shown} for configuration {}: {msg}",
                    self.name
                )
            })?;
        }
        Ok(v)
    }
}

/// Splits a Connect list value: comma-separated, whitespace around items dropped, "" = empty list.
pub fn split_list(s: &str) -> Vec<String> {
    let s = s.trim();
    if s.is_empty() {
        return Vec::new();
    }
    s.split(',').map(|p| p.trim().to_owned()).collect()
}

/// The validation result of one key (Connect's `ConfigValue`).
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigValue {
    /// Key name.
    pub name: String,
    /// The value as shown (passwords hidden), or None.
    pub value: Option<String>,
    /// Suggested values.
    pub recommended_values: Vec<String>,
    /// Error messages.
    pub errors: Vec<String>,
    /// Whether the key is relevant given the other values.
    pub visible: bool,
}

impl ConfigValue {
    /// A value with no errors.
    pub fn new(name: impl Into<String>, value: Option<String>) -> Self {
        ConfigValue {
            name: name.into(),
            value,
            recommended_values: Vec::new(),
            errors: Vec::new(),
            visible: true,
        }
    }
}

/// A set of declared keys, in declaration order.
#[derive(Debug, Clone, Default)]
pub struct ConfigDef {
    keys: Vec<ConfigKey>,
}

impl ConfigDef {
    /// An empty definition.
    pub fn new() -> Self {
        ConfigDef::default()
    }
    /// Adds a key (replacing one of the same name).
    pub fn define(mut self, key: ConfigKey) -> Self {
        self.keys.retain(|k| k.name != key.name);
        self.keys.push(key);
        self
    }
    /// Adds the keys of `other` not defined here yet.
    pub fn merge(mut self, other: &ConfigDef) -> Self {
        for k in &other.keys {
            if self.key(&k.name).is_none() {
                self.keys.push(k.clone());
            }
        }
        self
    }
    /// The same keys with `prefix` in front of every name (for transforms, `transforms.<a>.`).
    pub fn with_prefix(&self, prefix: &str, group: Option<&str>) -> ConfigDef {
        ConfigDef {
            keys: self
                .keys
                .iter()
                .map(|k| {
                    let mut k = k.clone();
                    k.name = format!("{prefix}{}", k.name);
                    if let Some(g) = group {
                        k.group = Some(g.to_owned());
                    }
                    k
                })
                .collect(),
        }
    }
    /// Declared keys in order.
    pub fn keys(&self) -> &[ConfigKey] {
        &self.keys
    }
    /// The key named `name`.
    pub fn key(&self, name: &str) -> Option<&ConfigKey> {
        self.keys.iter().find(|k| k.name == name)
    }
    /// Group names in first-seen order.
    pub fn groups(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for k in &self.keys {
            if let Some(g) = &k.group {
                if !out.contains(g) {
                    out.push(g.clone());
                }
            }
        }
        out
    }

    /// Parses `props`; fails with every problem listed, each naming its key.
    pub fn parse(&self, props: &Props) -> Result<Config> {
        let mut values = BTreeMap::new();
        let mut errors = Vec::new();
        for key in &self.keys {
            match self.parse_key(key, props) {
                Ok(v) => {
                    values.insert(key.name.clone(), v);
                }
                Err(e) => errors.push(e),
            }
        }
        if errors.is_empty() {
            Ok(Config {
                values,
                originals: props.clone(),
            })
        } else {
            Err(ConnectError::config(errors.join("; ")))
        }
    }

    fn parse_key(
        &self,
        key: &ConfigKey,
        props: &Props,
    ) -> std::result::Result<ParsedValue, String> {
        match props.get(&key.name) {
            Some(raw) => key.parse_value(raw),
            None => match &key.default {
                Some(d) => key.parse_value(d),
                None if key.default_is_null => Ok(ParsedValue::Null),
                None => Err(format!(
                    "Missing required configuration \"{}\" which has no default value.",
                    key.name
                )),
            },
        }
    }

    /// Validates `props` key by key (Connect's `ConfigDef.validate`), for the REST validate answer.
    pub fn validate(&self, props: &Props) -> Vec<ConfigValue> {
        self.keys
            .iter()
            .map(|key| {
                let shown = props.get(&key.name).map(|raw| {
                    if key.config_type == ConfigType::Password {
                        "[hidden]".to_owned()
                    } else {
                        raw.trim().to_owned()
                    }
                });
                let mut cv = ConfigValue::new(&key.name, None);
                match self.parse_key(key, props) {
                    Ok(v) => {
                        cv.value = if props.contains_key(&key.name) {
                            shown
                        } else {
                            v.display()
                        }
                    }
                    Err(e) => {
                        cv.value = shown;
                        cv.errors.push(e);
                    }
                }
                cv
            })
            .collect()
    }
}

/// Parsed configuration: typed values of declared keys, plus the original map (unknown keys
/// included, as Connect passes them through).
#[derive(Debug, Clone)]
pub struct Config {
    values: BTreeMap<String, ParsedValue>,
    originals: Props,
}

impl Config {
    fn get(&self, name: &str) -> &ParsedValue {
        self.values
            .get(name)
            .unwrap_or_else(|| panic!("configuration key {name} is not declared"))
    }
    /// A STRING/CLASS key; None when its default is null.
    pub fn string(&self, name: &str) -> Option<&str> {
        match self.get(name) {
            ParsedValue::String(s) | ParsedValue::Class(s) => Some(s),
            ParsedValue::Null => None,
            other => panic!("configuration key {name} is not a string: {other:?}"),
        }
    }
    /// A PASSWORD key's secret.
    pub fn password(&self, name: &str) -> Option<&str> {
        match self.get(name) {
            ParsedValue::Password(s) => Some(s),
            ParsedValue::Null => None,
            other => panic!("configuration key {name} is not a password: {other:?}"),
        }
    }
    /// An INT key.
    pub fn int(&self, name: &str) -> i32 {
        match self.get(name) {
            ParsedValue::Int(v) => *v,
            other => panic!("configuration key {name} is not an int: {other:?}"),
        }
    }
    /// A SHORT key.
    pub fn short(&self, name: &str) -> i16 {
        match self.get(name) {
            ParsedValue::Short(v) => *v,
            other => panic!("configuration key {name} is not a short: {other:?}"),
        }
    }
    /// A LONG key.
    pub fn long(&self, name: &str) -> i64 {
        match self.get(name) {
            ParsedValue::Long(v) => *v,
            ParsedValue::Int(v) => *v as i64,
            other => panic!("configuration key {name} is not a long: {other:?}"),
        }
    }
    /// A DOUBLE key.
    pub fn double(&self, name: &str) -> f64 {
        match self.get(name) {
            ParsedValue::Double(v) => *v,
            other => panic!("configuration key {name} is not a double: {other:?}"),
        }
    }
    /// A BOOLEAN key.
    pub fn boolean(&self, name: &str) -> bool {
        match self.get(name) {
            ParsedValue::Boolean(v) => *v,
            other => panic!("configuration key {name} is not a boolean: {other:?}"),
        }
    }
    /// A LIST key (empty when null).
    pub fn list(&self, name: &str) -> &[String] {
        match self.get(name) {
            ParsedValue::List(v) => v,
            ParsedValue::Null => &[],
            other => panic!("configuration key {name} is not a list: {other:?}"),
        }
    }
    /// The parsed value of any declared key.
    pub fn value(&self, name: &str) -> Option<&ParsedValue> {
        self.values.get(name)
    }
    /// Every key as given, unknown keys included.
    pub fn originals(&self) -> &Props {
        &self.originals
    }
    /// The original keys starting with `prefix`, with the prefix removed.
    pub fn originals_with_prefix(&self, prefix: &str) -> Props {
        with_prefix_stripped(&self.originals, prefix)
    }
}

/// The keys of `props` starting with `prefix`, with the prefix removed.
pub fn with_prefix_stripped(props: &Props, prefix: &str) -> Props {
    props
        .range(prefix.to_owned()..)
        .take_while(|(k, _)| k.starts_with(prefix))
        .map(|(k, v)| (k[prefix.len()..].to_owned(), v.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def() -> ConfigDef {
        ConfigDef::new()
            .define(ConfigKey::new("file", ConfigType::String).importance(Importance::High))
            .define(
                ConfigKey::new("batch.size", ConfigType::Int)
                    .default("2000")
                    .validator(Validator::at_least(1.0)),
            )
            .define(ConfigKey::new("topics", ConfigType::List).default(""))
            .define(ConfigKey::new("enabled", ConfigType::Boolean).default("false"))
            .define(ConfigKey::new("secret", ConfigType::Password).default_null())
            .define(
                ConfigKey::new("mode", ConfigType::String)
                    .default("bulk")
                    .validator(Validator::OneOf(vec!["bulk", "incrementing"])),
            )
    }

    fn props(pairs: &[(&str, &str)]) -> Props {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn parses_with_java_rules() {
        let c = def()
            .parse(&props(&[
                ("file", " /tmp/x "),
                ("batch.size", " 10"),
                ("topics", "a , b,c "),
                ("enabled", "TRUE"),
                ("mode", "Incrementing "),
                ("unknown.key", "kept"),
            ]))
            .unwrap();
        assert_eq!(c.string("file"), Some("/tmp/x"));
        assert_eq!(c.int("batch.size"), 10);
        assert_eq!(c.list("topics"), ["a", "b", "c"]);
        assert!(c.boolean("enabled"));
        assert_eq!(c.password("secret"), None);
        assert_eq!(c.originals()["unknown.key"], "kept");
    }

    #[test]
    fn errors_name_the_key() {
        let err = def().parse(&props(&[("batch.size", "x")])).unwrap_err();
        let msg = err.message();
        assert!(
            msg.contains("Missing required configuration \"file\" which has no default value."),
            "{msg}"
        );
        assert!(
            msg.contains("Invalid value x for configuration batch.size: Not a number of type INT"),
            "{msg}"
        );
        let err = def()
            .parse(&props(&[("file", "f"), ("batch.size", "0")]))
            .unwrap_err();
        assert_eq!(
            err.message(),
            "Invalid value 0 for configuration batch.size: Value must be at least 1"
        );
    }

    #[test]
    fn validate_hides_passwords_and_reports_per_key() {
        let vals = def().validate(&props(&[("secret", "s3cr3t"), ("mode", "nope")]));
        let get = |n: &str| vals.iter().find(|v| v.name == n).unwrap();
        assert_eq!(get("secret").value.as_deref(), Some("[hidden]"));
        assert_eq!(get("file").errors.len(), 1);
        assert_eq!(get("batch.size").value.as_deref(), Some("2000"));
        assert!(get("mode").errors[0].contains("String must be one of"));
    }

    #[test]
    fn prefix_stripping() {
        let p = props(&[("a.b", "1"), ("a.c", "2"), ("ab", "3"), ("b", "4")]);
        assert_eq!(
            with_prefix_stripped(&p, "a."),
            props(&[("b", "1"), ("c", "2")])
        );
    }
}
