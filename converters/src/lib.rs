//! Ferry's converters: Kafka Connect's `StringConverter`, `ByteArrayConverter`, the number and
//! boolean converters, `JsonConverter` and `SimpleHeaderConverter`, each producing the same bytes
//! as its Java counterpart (COMPAT.md §6.1, §6.2). [`plugins`] lists them under their Java class
//! names for the binary's plugin registry.
//!
//! This crate owns byte ⇄ Connect-data mapping only: no I/O, no knowledge of topics beyond the
//! trait signatures. The worker reuses [`json`]'s helpers for its internal topics.

pub mod bytes;
pub mod header;
pub mod java_string;
pub mod json;
pub mod number;
pub mod string;
mod time;
pub mod values;

use ferry_api::{ConverterPlugin, HeaderConverterPlugin};

pub use crate::bytes::ByteArrayConverter;
pub use header::SimpleHeaderConverter;
pub use json::JsonConverter;
pub use number::{NumberConverter, NumberKind};
pub use string::StringConverter;

/// Java class names of the bundled converters.
pub mod class {
    /// `StringConverter`.
    pub const STRING: &str = "org.apache.kafka.connect.storage.StringConverter";
    /// `ByteArrayConverter`.
    pub const BYTE_ARRAY: &str = "org.apache.kafka.connect.converters.ByteArrayConverter";
    /// `JsonConverter`.
    pub const JSON: &str = "org.apache.kafka.connect.json.JsonConverter";
    /// `ShortConverter`.
    pub const SHORT: &str = "org.apache.kafka.connect.converters.ShortConverter";
    /// `IntegerConverter`.
    pub const INTEGER: &str = "org.apache.kafka.connect.converters.IntegerConverter";
    /// `LongConverter`.
    pub const LONG: &str = "org.apache.kafka.connect.converters.LongConverter";
    /// `FloatConverter`.
    pub const FLOAT: &str = "org.apache.kafka.connect.converters.FloatConverter";
    /// `DoubleConverter`.
    pub const DOUBLE: &str = "org.apache.kafka.connect.converters.DoubleConverter";
    /// `BooleanConverter`.
    pub const BOOLEAN: &str = "org.apache.kafka.connect.converters.BooleanConverter";
    /// `SimpleHeaderConverter` (the default header converter).
    pub const SIMPLE_HEADER: &str = "org.apache.kafka.connect.storage.SimpleHeaderConverter";
}

/// Every bundled converter and header converter under its Java class name.
pub fn plugins() -> (Vec<ConverterPlugin>, Vec<HeaderConverterPlugin>) {
    macro_rules! number {
        ($kind:ident) => {
            || Box::new(NumberConverter::new(NumberKind::$kind))
        };
    }
    let converters = vec![
        ConverterPlugin {
            class: class::STRING,
            extra_aliases: &[],
            new: || Box::new(StringConverter::new()),
        },
        ConverterPlugin {
            class: class::BYTE_ARRAY,
            extra_aliases: &[],
            new: || Box::new(ByteArrayConverter),
        },
        ConverterPlugin {
            class: class::JSON,
            extra_aliases: &[],
            new: || Box::new(JsonConverter::new()),
        },
        ConverterPlugin {
            class: class::SHORT,
            extra_aliases: &[],
            new: number!(Short),
        },
        ConverterPlugin {
            class: class::INTEGER,
            extra_aliases: &[],
            new: number!(Integer),
        },
        ConverterPlugin {
            class: class::LONG,
            extra_aliases: &[],
            new: number!(Long),
        },
        ConverterPlugin {
            class: class::FLOAT,
            extra_aliases: &[],
            new: number!(Float),
        },
        ConverterPlugin {
            class: class::DOUBLE,
            extra_aliases: &[],
            new: number!(Double),
        },
        ConverterPlugin {
            class: class::BOOLEAN,
            extra_aliases: &[],
            new: number!(Boolean),
        },
    ];
    let headers = vec![
        HeaderConverterPlugin {
            class: class::SIMPLE_HEADER,
            extra_aliases: &[],
            new: || Box::new(SimpleHeaderConverter),
        },
        HeaderConverterPlugin {
            class: class::STRING,
            extra_aliases: &[],
            new: || Box::new(StringConverter::new()),
        },
        HeaderConverterPlugin {
            class: class::JSON,
            extra_aliases: &[],
            new: || Box::new(JsonConverter::new()),
        },
        HeaderConverterPlugin {
            class: class::BYTE_ARRAY,
            extra_aliases: &[],
            new: || Box::new(ByteArrayConverter),
        },
        HeaderConverterPlugin {
            class: class::SHORT,
            extra_aliases: &[],
            new: number!(Short),
        },
        HeaderConverterPlugin {
            class: class::INTEGER,
            extra_aliases: &[],
            new: number!(Integer),
        },
        HeaderConverterPlugin {
            class: class::LONG,
            extra_aliases: &[],
            new: number!(Long),
        },
        HeaderConverterPlugin {
            class: class::FLOAT,
            extra_aliases: &[],
            new: number!(Float),
        },
        HeaderConverterPlugin {
            class: class::DOUBLE,
            extra_aliases: &[],
            new: number!(Double),
        },
        HeaderConverterPlugin {
            class: class::BOOLEAN,
            extra_aliases: &[],
            new: number!(Boolean),
        },
    ];
    (converters, headers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_api::{Headers, Props, Value};

    #[test]
    fn plugins_are_listed_by_java_class_and_work() {
        let (converters, headers) = plugins();
        let classes: Vec<&str> = converters.iter().map(|p| p.class).collect();
        assert_eq!(classes.len(), 9);
        for c in [
            class::STRING,
            class::BYTE_ARRAY,
            class::JSON,
            class::BOOLEAN,
        ] {
            assert!(classes.contains(&c), "{c}");
        }
        let header_classes: Vec<&str> = headers.iter().map(|p| p.class).collect();
        for c in [
            class::SIMPLE_HEADER,
            class::STRING,
            class::JSON,
            class::BYTE_ARRAY,
        ] {
            assert!(header_classes.contains(&c), "{c}");
        }
        let json = converters.iter().find(|p| p.class == class::JSON).unwrap();
        let mut conv = (json.new)();
        conv.configure(&Props::new(), false).unwrap();
        let out = conv
            .from_connect("t", &mut Headers::new(), None, &Value::Int64(1))
            .unwrap()
            .unwrap();
        assert_eq!(out.as_ref(), br#"{"schema":null,"payload":1}"#);
    }
}
