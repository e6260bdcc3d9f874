//! Golden, byte-exact tests of the JSON converter against the bytes Kafka's converter writes.

use std::sync::Arc;

use bytes::Bytes;
use ferry_api::{
    Converter, Decimal, Headers, Props, Schema, SchemaAndValue, SchemaBuilder, SchemaRef, Struct,
    Value,
};

use super::*;

fn props(pairs: &[(&str, &str)]) -> Props {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn converter(pairs: &[(&str, &str)]) -> JsonConverter {
    let mut c = JsonConverter::new();
    Converter::configure(&mut c, &props(pairs), false).unwrap();
    c
}

fn write(c: &mut JsonConverter, schema: Option<&SchemaRef>, value: &Value) -> String {
    let bytes = c
        .from_connect("t", &mut Headers::new(), schema, value)
        .unwrap()
        .expect("not a tombstone");
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn read(c: &mut JsonConverter, json: &str) -> SchemaAndValue {
    c.to_connect(
        "t",
        &Headers::new(),
        Some(Bytes::copy_from_slice(json.as_bytes())),
    )
    .unwrap()
}

fn read_err(c: &mut JsonConverter, json: &str) -> String {
    c.to_connect(
        "t",
        &Headers::new(),
        Some(Bytes::copy_from_slice(json.as_bytes())),
    )
    .unwrap_err()
    .message()
    .to_owned()
}

fn orders_schema() -> SchemaRef {
    SchemaBuilder::struct_()
        .name("shop.orders.Value")
        .field("id", Schema::int32())
        .field("price", SchemaBuilder::decimal(2).optional().build())
        .field("ts", SchemaBuilder::timestamp().optional().build())
        .build()
}

const ORDERS_ENVELOPE: &str = concat!(
    r#"{"schema":{"type":"struct","fields":["#,
    r#"{"type":"int32","optional":false,"field":"id"},"#,
    r#"{"type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"},"field":"price"},"#,
    r#"{"type":"int64","optional":true,"name":"org.apache.kafka.connect.data.Timestamp","version":1,"field":"ts"}],"#,
    r#""optional":false,"name":"shop.orders.Value"},"#,
    r#""payload":{"id":7,"price":"MDk=","ts":1700000000000}}"#
);

fn orders_value(schema: &SchemaRef) -> Value {
    Struct::new(schema.clone())
        .with("id", 7i32)
        .unwrap()
        .with("price", Decimal::new(12345, 2))
        .unwrap()
        .with("ts", Value::Timestamp(1_700_000_000_000))
        .unwrap()
        .into()
}

#[test]
fn compat_example_envelope_both_ways() {
    let schema = orders_schema();
    let mut c = converter(&[]);
    assert_eq!(
        write(&mut c, Some(&schema), &orders_value(&schema)),
        ORDERS_ENVELOPE
    );
    let back = read(&mut c, ORDERS_ENVELOPE);
    assert_eq!(back.schema.as_deref(), Some(schema.as_ref()));
    assert_eq!(back.value, orders_value(&schema));
    // Second write comes from the schema-JSON cache and is identical.
    assert_eq!(
        write(&mut c, Some(&schema), &orders_value(&schema)),
        ORDERS_ENVELOPE
    );
}

#[test]
fn same_envelope_schema_read_twice_is_the_same_arc() {
    let mut c = converter(&[]);
    let a = read(&mut c, ORDERS_ENVELOPE).schema.unwrap();
    let b = read(&mut c, ORDERS_ENVELOPE).schema.unwrap();
    assert!(Arc::ptr_eq(&a, &b));
    let mut uncached = converter(&[("schemas.cache.size", "0")]);
    let x = read(&mut uncached, ORDERS_ENVELOPE).schema.unwrap();
    let y = read(&mut uncached, ORDERS_ENVELOPE).schema.unwrap();
    assert!(!Arc::ptr_eq(&x, &y));
    assert_eq!(x, y);
}

/// After one envelope, the next with byte-identical schema JSON skips the schema scan; documents
/// that only look alike (an extra member, a payload error, other spacing) still take the general
/// path, with its answers.
#[test]
fn envelope_with_the_last_schema_reads_like_any_other() {
    let schema = orders_schema();
    let mut c = converter(&[]);
    let first = read(&mut c, ORDERS_ENVELOPE);
    let again = read(&mut c, ORDERS_ENVELOPE);
    assert_eq!(first.value, orders_value(&schema));
    assert_eq!(again.value, first.value);
    assert!(Arc::ptr_eq(
        first.schema.as_ref().unwrap(),
        again.schema.as_ref().unwrap()
    ));
    let other_payload = ORDERS_ENVELOPE.replace(r#""id":7"#, r#""id":8"#);
    let v = read(&mut c, &other_payload).value;
    assert_eq!(v.as_struct().unwrap().get("id"), Some(&Value::Int32(8)));
    let spaced = ORDERS_ENVELOPE.replace(r#","payload":"#, r#", "payload" : "#);
    assert_eq!(read(&mut c, &spaced).value, orders_value(&schema));
    // Trailing content after the envelope is ignored, as Jackson's readTree does.
    assert_eq!(
        read(&mut c, &format!("{ORDERS_ENVELOPE}  xyz")).value,
        orders_value(&schema)
    );
    let envelope = "JsonConverter with schemas.enable requires \"schema\" and \"payload\" fields and may not contain additional fields. If you are trying to deserialize plain JSON data, set schemas.enable=false in your converter configuration.";
    let extra = ORDERS_ENVELOPE.replace(r#"}}"#, r#"},"x":1}"#);
    assert_eq!(read_err(&mut c, &extra), envelope);
    let missing_id = ORDERS_ENVELOPE.replace(r#""id":7,"#, "");
    assert_eq!(
        read_err(&mut c, &missing_id),
        "Invalid null value for required INT32 field"
    );
    let broken = ORDERS_ENVELOPE.replace(r#""id":7"#, r#""id":7x"#);
    assert!(read_err(&mut c, &broken).starts_with(
        "Converting byte[] to Kafka Connect data failed due to serialization error: "
    ));
}

/// A struct payload whose members follow the schema is read straight into its struct; every
/// other shape falls back to the general path. Both must give the same value or the same error:
/// a converter warmed up on the schema (fast paths) is compared with one that never caches.
#[test]
fn struct_payloads_read_alike_on_the_direct_and_general_paths() {
    let schema = concat!(
        r#"{"type":"struct","fields":[{"type":"int64","optional":false,"field":"id"},"#,
        r#"{"type":"string","optional":true,"field":"name"},"#,
        r#"{"type":"struct","fields":[{"type":"boolean","optional":true,"field":"ok"}],"optional":true,"field":"inner"},"#,
        r#"{"type":"double","optional":true,"default":1.5,"field":"x"}],"optional":false,"name":"t"}"#
    );
    let payloads = [
        r#"{"id":1,"name":"a\u00e9\n","inner":{"ok":true},"x":2}"#,
        r#" { "id" : 1 , "name" : "a" , "inner" : { "ok" : false } , "x" : 2.5 } "#,
        r#"{"name":"a","id":1,"inner":{"ok":true},"x":2}"#,
        r#"{"id":1,"id":2,"name":"a","inner":null,"x":2}"#,
        r#"{"id":1,"name":"a","inner":{"ok":true}}"#,
        r#"{"id":1,"name":"a","inner":{"ok":true},"x":2,"y":3}"#,
        r#"{"id":"7","name":5,"inner":{"ok":1},"x":"no"}"#,
        r#"{"id":1.9e1,"name":null,"inner":{},"x":null}"#,
        r#"{"id":99999999999999999999,"name":"a","inner":{"ok":true,"ok":false},"x":1}"#,
        r#"{"name":"a"}"#,
        r#"{"id":null,"name":"a"}"#,
        r#"{"id":1,"name":"a","inner":[1],"x":1}"#,
        r#"{"id":1,"name":"a","inner":{"ok":tru},"x":1}"#,
        r#"{"id":1,"name":"a","inner":{"ok":true},"x":1"#,
        r#"{}"#,
        r#"null"#,
        r#"[]"#,
    ];
    let envelope = |payload: &str| format!(r#"{{"schema":{schema},"payload":{payload}}}"#);
    let outcome = |c: &mut JsonConverter, doc: &str| {
        c.to_connect(
            "t",
            &Headers::new(),
            Some(Bytes::copy_from_slice(doc.as_bytes())),
        )
        .map(|v| v.value)
        .map_err(|e| e.message().to_owned())
    };
    for payload in payloads {
        let mut warmed = converter(&[]);
        outcome(&mut warmed, &envelope(payloads[0])).unwrap();
        let mut general = converter(&[("schemas.cache.size", "0")]);
        let doc = envelope(payload);
        assert_eq!(
            outcome(&mut warmed, &doc),
            outcome(&mut general, &doc),
            "{payload}"
        );
    }
}

#[test]
fn every_primitive_with_its_schema() {
    let cases: Vec<(SchemaRef, Value, &str, &str)> = vec![
        (Schema::boolean(), Value::Boolean(true), "boolean", "true"),
        (Schema::int8(), Value::Int8(-8), "int8", "-8"),
        (Schema::int16(), Value::Int16(300), "int16", "300"),
        (
            Schema::int32(),
            Value::Int32(i32::MIN),
            "int32",
            "-2147483648",
        ),
        (
            Schema::int64(),
            Value::Int64(i64::MAX),
            "int64",
            "9223372036854775807",
        ),
        (Schema::float32(), Value::Float32(1.1), "float", "1.1"),
        (
            Schema::float64(),
            Value::Float64(1.0e10),
            "double",
            "1.0E10",
        ),
        (
            Schema::float64(),
            Value::Float64(123.456),
            "double",
            "123.456",
        ),
        (
            Schema::float64(),
            Value::Float64(1.0e-5),
            "double",
            "1.0E-5",
        ),
        (
            Schema::float64(),
            Value::Float64(f64::NAN),
            "double",
            r#""NaN""#,
        ),
        (
            Schema::bytes(),
            Value::Bytes(Bytes::from_static(b"\x00\x01\xff")),
            "bytes",
            r#""AAH/""#,
        ),
        (
            Schema::string(),
            Value::from("q\"b\\s/\n\t\u{1}\u{1f}é😀"),
            "string",
            r#""q\"b\\s/\n\t\u0001\u001Fé😀""#,
        ),
    ];
    for (schema, value, type_name, payload) in cases {
        let mut c = converter(&[]);
        let want = format!(
            r#"{{"schema":{{"type":"{type_name}","optional":false}},"payload":{payload}}}"#
        );
        assert_eq!(write(&mut c, Some(&schema), &value), want);
        let back = read(&mut c, &want);
        assert_eq!(back.schema.as_deref(), Some(schema.as_ref()));
        if !matches!(value, Value::Float64(f) if f.is_nan()) {
            assert_eq!(back.value, value, "{want}");
        }
        let mut plain = converter(&[("schemas.enable", "false")]);
        assert_eq!(write(&mut plain, Some(&schema), &value), payload);
    }
}

#[test]
fn optional_and_default_handling() {
    let with_default = SchemaBuilder::int32()
        .optional()
        .default_value(Value::Int32(42))
        .doc("answer")
        .build();
    let mut c = converter(&[]);
    assert_eq!(
        write(&mut c, Some(&with_default), &Value::Null),
        r#"{"schema":{"type":"int32","optional":true,"doc":"answer","default":42},"payload":42}"#
    );
    let mut keep_null = converter(&[("replace.null.with.default", "false")]);
    assert_eq!(
        write(&mut keep_null, Some(&with_default), &Value::Null),
        r#"{"schema":{"type":"int32","optional":true,"doc":"answer","default":42},"payload":null}"#
    );
    // Reading: null payload becomes the default unless disabled.
    let json = r#"{"schema":{"type":"int32","optional":true,"default":42},"payload":null}"#;
    assert_eq!(read(&mut c, json).value, Value::Int32(42));
    assert_eq!(read(&mut keep_null, json).value, Value::Null);
    // Optional without default: null. Required: errors both ways.
    assert_eq!(
        write(&mut c, Some(&Schema::optional_string()), &Value::Null),
        r#"{"schema":{"type":"string","optional":true},"payload":null}"#
    );
    let err = c
        .from_connect(
            "t",
            &mut Headers::new(),
            Some(&Schema::string()),
            &Value::Null,
        )
        .unwrap_err();
    assert_eq!(
        err.message(),
        "Conversion error: null value for field that is required and has no default value"
    );
    assert_eq!(
        read_err(&mut c, r#"{"schema":{"type":"string"},"payload":null}"#),
        "Invalid null value for required STRING field"
    );
    // Struct fields: a null field with a default.
    let s = SchemaBuilder::struct_()
        .field(
            "a",
            SchemaBuilder::string().default_value("x".into()).build(),
        )
        .field("b", Schema::optional_int64())
        .build();
    let v: Value = Struct::new(s.clone()).into();
    let mut plain = converter(&[("schemas.enable", "false")]);
    assert_eq!(write(&mut plain, Some(&s), &v), r#"{"a":"x","b":null}"#);
    assert_eq!(
        write(&mut c, Some(&s), &v),
        concat!(
            r#"{"schema":{"type":"struct","fields":[{"type":"string","optional":false,"default":"x","field":"a"},"#,
            r#"{"type":"int64","optional":true,"field":"b"}],"optional":false},"payload":{"a":"x","b":null}}"#
        )
    );
}

#[test]
fn arrays_maps_and_nested_structs() {
    let inner = SchemaBuilder::struct_()
        .name("Inner")
        .field("n", Schema::optional_float32())
        .build();
    let schema = SchemaBuilder::struct_()
        .field("tags", SchemaBuilder::array(Schema::string()).build())
        .field(
            "by_name",
            SchemaBuilder::map(Schema::string(), Schema::int32()).build(),
        )
        .field(
            "by_id",
            SchemaBuilder::map(Schema::int64(), Schema::optional_string()).build(),
        )
        .field("inner", inner.clone())
        .build();
    let value: Value = Struct::new(schema.clone())
        .with("tags", Value::Array(vec!["a".into(), "b".into()]))
        .unwrap()
        .with(
            "by_name",
            Value::Map(vec![("x".into(), 1i32.into()), ("y".into(), 2i32.into())]),
        )
        .unwrap()
        .with(
            "by_id",
            Value::Map(vec![
                (5i64.into(), "five".into()),
                (6i64.into(), Value::Null),
            ]),
        )
        .unwrap()
        .with(
            "inner",
            Struct::new(inner.clone()).with("n", 0.5f32).unwrap(),
        )
        .unwrap()
        .into();
    let want = concat!(
        r#"{"schema":{"type":"struct","fields":["#,
        r#"{"type":"array","items":{"type":"string","optional":false},"optional":false,"field":"tags"},"#,
        r#"{"type":"map","keys":{"type":"string","optional":false},"values":{"type":"int32","optional":false},"optional":false,"field":"by_name"},"#,
        r#"{"type":"map","keys":{"type":"int64","optional":false},"values":{"type":"string","optional":true},"optional":false,"field":"by_id"},"#,
        r#"{"type":"struct","fields":[{"type":"float","optional":true,"field":"n"}],"optional":false,"name":"Inner","field":"inner"}],"#,
        r#""optional":false},"#,
        r#""payload":{"tags":["a","b"],"by_name":{"x":1,"y":2},"by_id":[[5,"five"],[6,null]],"inner":{"n":0.5}}}"#
    );
    let mut c = converter(&[]);
    assert_eq!(write(&mut c, Some(&schema), &value), want);
    let back = read(&mut c, want);
    assert_eq!(back.value, value);
    assert_eq!(
        read_err(
            &mut c,
            r#"{"schema":{"type":"map","keys":{"type":"int32"},"values":{"type":"int32"}},"payload":{"a":1}}"#
        ),
        "Maps with non-string fields should be encoded as JSON array of tuples, but found OBJECT"
    );
    assert_eq!(
        read_err(
            &mut c,
            r#"{"schema":{"type":"map","keys":{"type":"int32"},"values":{"type":"int32"}},"payload":[[1]]}"#
        ),
        "Found invalid map entry, expected length 2 but found :1"
    );
}

#[test]
fn decimals_in_both_formats() {
    let schema = SchemaBuilder::decimal(2).build();
    let value = Value::Decimal(Decimal::new(-15600, 2));
    let mut base64 = converter(&[("schemas.enable", "false")]);
    assert_eq!(write(&mut base64, Some(&schema), &value), r#""wxA=""#);
    let mut numeric = converter(&[("schemas.enable", "false"), ("decimal.format", "numeric")]);
    assert_eq!(write(&mut numeric, Some(&schema), &value), "-156.00");
    let mut c = converter(&[]);
    let schema_json = r#"{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"}}"#;
    for payload in [r#""wxA=""#, "-156.00", "-156", "-1.56E2"] {
        let json = format!(r#"{{"schema":{schema_json},"payload":{payload}}}"#);
        assert_eq!(read(&mut c, &json).value, value, "{payload}");
    }
    // BigDecimal.toString goes scientific for small values.
    let tiny = SchemaBuilder::decimal(9).build();
    assert_eq!(
        write(
            &mut numeric,
            Some(&tiny),
            &Value::Decimal(Decimal::new(123, 9))
        ),
        "1.23E-7"
    );
    let err = base64
        .from_connect(
            "t",
            &mut Headers::new(),
            Some(&schema),
            &Value::Decimal(Decimal::new(1, 3)),
        )
        .unwrap_err();
    assert_eq!(
        err.message(),
        "Decimal value has mismatching scale for given Decimal schema. Schema has scale 2, value has scale 3."
    );
    assert!(JsonConverter::definition()
        .parse(&props(&[("decimal.format", "HEX")]))
        .unwrap_err()
        .message()
        .contains("decimal.format"));
}

#[test]
fn date_time_timestamp() {
    let mut c = converter(&[("schemas.enable", "false")]);
    let date = SchemaBuilder::date().build();
    let time = SchemaBuilder::time().build();
    let ts = SchemaBuilder::timestamp().build();
    assert_eq!(write(&mut c, Some(&date), &Value::Date(19_000)), "19000");
    assert_eq!(
        write(&mut c, Some(&time), &Value::Time(3_600_000)),
        "3600000"
    );
    assert_eq!(write(&mut c, Some(&ts), &Value::Timestamp(-1)), "-1");
    let mut env = converter(&[]);
    assert_eq!(
        write(&mut env, Some(&date), &Value::Date(1)),
        r#"{"schema":{"type":"int32","optional":false,"name":"org.apache.kafka.connect.data.Date","version":1},"payload":1}"#
    );
    assert_eq!(
        read(&mut env, r#"{"schema":{"type":"int32","name":"org.apache.kafka.connect.data.Time","version":1},"payload":5}"#).value,
        Value::Time(5)
    );
    assert_eq!(
        read_err(
            &mut env,
            r#"{"schema":{"type":"int32","name":"org.apache.kafka.connect.data.Date"},"payload":1.5}"#
        ),
        "Invalid type for Date, underlying representation should be integer but was NUMBER"
    );
    let err = c
        .from_connect("t", &mut Headers::new(), Some(&date), &Value::Int32(1))
        .unwrap_err();
    assert_eq!(
        err.message(),
        "Invalid type for Date, expected Date but was class java.lang.Integer"
    );
}

#[test]
fn tombstones() {
    let mut c = converter(&[]);
    assert_eq!(
        c.from_connect("t", &mut Headers::new(), None, &Value::Null)
            .unwrap(),
        None
    );
    assert_eq!(
        c.to_connect("t", &Headers::new(), None).unwrap(),
        SchemaAndValue::null()
    );
    assert_eq!(
        read(&mut c, r#"{"schema":null,"payload":null}"#),
        SchemaAndValue::null()
    );
}

#[test]
fn schemaless_both_ways() {
    let mut c = converter(&[("schemas.enable", "false")]);
    let v = Value::Map(vec![
        ("i".into(), Value::Int32(1)),
        ("f".into(), Value::Float64(2.5)),
        (
            "l".into(),
            Value::Array(vec![Value::Null, true.into(), "s".into()]),
        ),
        ("b".into(), Value::Bytes(Bytes::from_static(b"hi"))),
    ]);
    assert_eq!(
        write(&mut c, None, &v),
        r#"{"i":1,"f":2.5,"l":[null,true,"s"],"b":"aGk="}"#
    );
    assert_eq!(
        write(&mut c, None, &Value::Map(vec![(1i32.into(), "one".into())])),
        r#"[[1,"one"]]"#
    );
    let back = read(
        &mut c,
        r#"{"i":1,"f":2.5,"e":1e2,"big":99999999999999999999,"o":{"k":[1]},"n":null}"#,
    );
    assert_eq!(back.schema, None);
    assert_eq!(
        back.value,
        Value::Map(vec![
            ("i".into(), Value::Int64(1)),
            ("f".into(), Value::Float64(2.5)),
            ("e".into(), Value::Float64(100.0)),
            ("big".into(), Value::Int64(99999999999999999999u128 as i64)),
            (
                "o".into(),
                Value::Map(vec![("k".into(), Value::Array(vec![Value::Int64(1)]))])
            ),
            ("n".into(), Value::Null),
        ])
    );
    assert_eq!(read(&mut c, "").value, Value::Null);
    // Envelope with a null schema carries schemaless data.
    let mut env = converter(&[]);
    assert_eq!(
        write(&mut env, None, &Value::Int64(5)),
        r#"{"schema":null,"payload":5}"#
    );
    assert_eq!(
        read(&mut env, r#"{"payload":[1],"schema":null}"#).value,
        Value::Array(vec![Value::Int64(1)])
    );
    assert_eq!(
        value_to_json_bytes(
            None,
            &Value::Array(vec![
                "c".into(),
                Value::Map(vec![("k".into(), 1i64.into())])
            ])
        )
        .unwrap(),
        br#"["c",{"k":1}]"#
    );
    assert_eq!(
        schemaless_from_json(b"[\"c\",2]").unwrap(),
        Value::Array(vec!["c".into(), Value::Int64(2)])
    );
}

#[test]
fn envelope_and_schema_errors() {
    let mut c = converter(&[]);
    let envelope = "JsonConverter with schemas.enable requires \"schema\" and \"payload\" fields and may not contain additional fields. If you are trying to deserialize plain JSON data, set schemas.enable=false in your converter configuration.";
    for bad in [
        r#"{"a":1}"#,
        r#"{"schema":null}"#,
        r#"{"schema":null,"payload":1,"x":2}"#,
        "[1]",
        "5",
        "{}",
        "",
    ] {
        assert_eq!(read_err(&mut c, bad), envelope, "{bad}");
    }
    assert!(
        read_err(&mut c, r#"{"schema":null,"payload":"#).starts_with(
            "Converting byte[] to Kafka Connect data failed due to serialization error: "
        )
    );
    let cases = [
        (r#"{"optional":true}"#, "Schema must contain 'type' field"),
        (r#"{"type":"int128"}"#, "Unknown schema type: int128"),
        (
            r#"{"type":"array"}"#,
            "Array schema did not specify the element type",
        ),
        (
            r#"{"type":"map","values":{"type":"int8"}}"#,
            "Map schema did not specify the key type",
        ),
        (
            r#"{"type":"struct","fields":{}}"#,
            "Struct schema's \"fields\" argument is not an array.",
        ),
        (
            r#"{"type":"struct","fields":[{"type":"int8"}]}"#,
            "Struct schema's field name not specified properly",
        ),
        (
            r#"{"type":"int8","parameters":{"a":1}}"#,
            "Schema parameters must have string values.",
        ),
    ];
    for (schema, want) in cases {
        assert_eq!(
            read_err(&mut c, &format!(r#"{{"schema":{schema},"payload":1}}"#)),
            want
        );
    }
    let s = SchemaBuilder::struct_().field("a", Schema::int8()).build();
    let other = SchemaBuilder::struct_().field("b", Schema::int8()).build();
    let v: Value = Struct::new(other).with("b", 1i8).unwrap().into();
    let err = c
        .from_connect("t", &mut Headers::new(), Some(&s), &v)
        .unwrap_err();
    assert_eq!(err.message(), "Mismatching schema.");
    let err = c
        .from_connect(
            "t",
            &mut Headers::new(),
            Some(&Schema::int32()),
            &Value::from("x"),
        )
        .unwrap_err();
    assert_eq!(
        err.message(),
        "Invalid type for INT32: class java.lang.String"
    );
    let err = c
        .from_connect(
            "t",
            &mut Headers::new(),
            None,
            &Value::Decimal(Decimal::new(1, 0)),
        )
        .unwrap_err();
    assert_eq!(
        err.message(),
        "Java class class java.math.BigDecimal does not have corresponding schema type."
    );
}

#[test]
fn schema_defaults_and_parameters_round_trip() {
    let schema = SchemaBuilder::struct_()
        .name("n")
        .version(3)
        .doc("d")
        .parameter("p1", "v1")
        .parameter("a0", "v0")
        .field(
            "s",
            SchemaBuilder::string()
                .optional()
                .default_value("dflt".into())
                .build(),
        )
        .field(
            "arr",
            SchemaBuilder::array(Schema::int16())
                .default_value(Value::Array(vec![Value::Int16(1)]))
                .build(),
        )
        .build();
    let json = schema_to_json_bytes(&schema, &JsonOptions::default()).unwrap();
    assert_eq!(
        std::str::from_utf8(&json).unwrap(),
        concat!(
            r#"{"type":"struct","fields":[{"type":"string","optional":true,"default":"dflt","field":"s"},"#,
            r#"{"type":"array","items":{"type":"int16","optional":false},"optional":false,"default":[1],"field":"arr"}],"#,
            r#""optional":false,"name":"n","version":3,"doc":"d","parameters":{"p1":"v1","a0":"v0"}}"#
        )
    );
    let back = schema_from_json(&json, &JsonOptions::default())
        .unwrap()
        .unwrap();
    assert_eq!(back, schema);
}

#[test]
fn lenient_numbers_follow_jackson() {
    let mut c = converter(&[]);
    let cases = [
        (r#"{"type":"int32"}"#, "1.9", Value::Int32(1)),
        (r#"{"type":"int8"}"#, "300", Value::Int8(44)),
        (r#"{"type":"int64"}"#, "\"7\"", Value::Int64(0)),
        (r#"{"type":"boolean"}"#, "1", Value::Boolean(false)),
        (r#"{"type":"float"}"#, "0.1", Value::Float32(0.1)),
        (r#"{"type":"double"}"#, "3", Value::Float64(3.0)),
        (r#"{"type":"string","optional":true}"#, "3", Value::Null),
    ];
    for (schema, payload, want) in cases {
        let json = format!(r#"{{"schema":{schema},"payload":{payload}}}"#);
        assert_eq!(read(&mut c, &json).value, want, "{json}");
    }
}
