//! The framework keys every connector config has (COMPAT §5.1, §8), declared once: they drive
//! parsing, the REST validate answer and `GET /connector-plugins/{p}/config`.

use ferry_api::{ConfigDef, ConfigKey, ConfigType, ConnectorType, Importance, Validator, Width};

/// Group names as Connect prints them.
pub const GROUP_COMMON: &str = "Common";
/// Transforms group.
pub const GROUP_TRANSFORMS: &str = "Transforms";
/// Predicates group.
pub const GROUP_PREDICATES: &str = "Predicates";
/// Error handling group.
pub const GROUP_ERRORS: &str = "Error Handling";
/// Topic creation group.
pub const GROUP_TOPIC_CREATION: &str = "Topic Creation";

fn key(name: &str, t: ConfigType, group: &str, order: i32) -> ConfigKey {
    ConfigKey::new(name, t).group(group, order)
}

/// The framework keys of a connector of `kind`.
pub fn framework_config_def(kind: ConnectorType) -> ConfigDef {
    let mut def = ConfigDef::new()
        .define(
            key("name", ConfigType::String, GROUP_COMMON, 1)
                .importance(Importance::High)
                .width(Width::Medium)
                .display_name("Connector name")
                .validator(Validator::NonEmptyString)
                .doc("Globally unique name to use for this connector."),
        )
        .define(
            key("connector.class", ConfigType::String, GROUP_COMMON, 2)
                .importance(Importance::High)
                .width(Width::Long)
                .display_name("Connector class")
                .doc("Name or alias of the class for this connector. Must be a subclass of org.apache.kafka.connect.connector.Connector."),
        )
        .define(
            key("tasks.max", ConfigType::Int, GROUP_COMMON, 3)
                .default("1")
                .importance(Importance::High)
                .width(Width::Short)
                .display_name("Tasks max")
                .validator(Validator::at_least(1.0))
                .doc("Maximum number of tasks to use for this connector."),
        )
        .define(
            key("tasks.max.enforce", ConfigType::Boolean, GROUP_COMMON, 4)
                .default("true")
                .importance(Importance::Low)
                .doc("(Deprecated) Whether to enforce that the tasks.max property is respected by the connector."),
        )
        .define(
            key("key.converter", ConfigType::Class, GROUP_COMMON, 5)
                .default_null()
                .importance(Importance::Low)
                .width(Width::Short)
                .display_name("Key converter class")
                .doc("Converter class used to convert between Kafka Connect format and the serialized form that is written to Kafka. Defaults to the worker's key.converter."),
        )
        .define(
            key("value.converter", ConfigType::Class, GROUP_COMMON, 6)
                .default_null()
                .importance(Importance::Low)
                .width(Width::Short)
                .display_name("Value converter class")
                .doc("Converter class used to convert between Kafka Connect format and the serialized form that is written to Kafka. Defaults to the worker's value.converter."),
        )
        .define(
            key("header.converter", ConfigType::Class, GROUP_COMMON, 7)
                .default_null()
                .importance(Importance::Low)
                .width(Width::Short)
                .display_name("Header converter class")
                .doc("HeaderConverter class used to convert between Kafka Connect format and the serialized form that is written to Kafka. Defaults to the worker's header.converter."),
        )
        .define(
            key("config.action.reload", ConfigType::String, GROUP_COMMON, 8)
                .default("restart")
                .importance(Importance::Low)
                .validator(Validator::OneOf(vec!["none", "restart"]))
                .doc("The action that Connect should take on the connector when changes in external configuration providers result in a change in the connector's configuration properties."),
        )
        .define(
            key("transforms", ConfigType::List, GROUP_TRANSFORMS, 1)
                .default("")
                .importance(Importance::Low)
                .width(Width::Long)
                .display_name("Transforms")
                .doc("Aliases for the transformations to be applied to records."),
        )
        .define(
            key("predicates", ConfigType::List, GROUP_PREDICATES, 1)
                .default("")
                .importance(Importance::Low)
                .width(Width::Long)
                .display_name("Predicates")
                .doc("Aliases for the predicates used by transformations."),
        )
        .define(
            key("errors.retry.timeout", ConfigType::Long, GROUP_ERRORS, 1)
                .default("0")
                .importance(Importance::Medium)
                .width(Width::Medium)
                .display_name("Retry Timeout for Errors")
                .doc("The maximum duration in milliseconds that a failed operation will be reattempted. The default is 0, which means no retries will be attempted. Use -1 for infinite retries."),
        )
        .define(
            key("errors.retry.delay.max.ms", ConfigType::Long, GROUP_ERRORS, 2)
                .default("60000")
                .importance(Importance::Medium)
                .width(Width::Medium)
                .display_name("Maximum Delay Between Retries for Errors")
                .doc("The maximum duration in milliseconds between consecutive retry attempts. Jitter will be added to the delay once this limit is reached to prevent thundering herd issues."),
        )
        .define(
            key("errors.tolerance", ConfigType::String, GROUP_ERRORS, 3)
                .default("none")
                .importance(Importance::Medium)
                .width(Width::Short)
                .display_name("Error Tolerance")
                .validator(Validator::OneOf(vec!["none", "all"]))
                .doc("Behavior for tolerating errors during connector operation. 'none' is the default value and signals that any error will result in an immediate connector task failure; 'all' changes the behavior to skip over problematic records."),
        )
        .define(
            key("errors.log.enable", ConfigType::Boolean, GROUP_ERRORS, 4)
                .default("false")
                .importance(Importance::Medium)
                .width(Width::Short)
                .display_name("Log Errors")
                .doc("If true, write each error and the details of the failed operation and problematic record to the Connect application log."),
        )
        .define(
            key("errors.log.include.messages", ConfigType::Boolean, GROUP_ERRORS, 5)
                .default("false")
                .importance(Importance::Medium)
                .width(Width::Short)
                .display_name("Log Error Details")
                .doc("Whether to include in the log the Connect record that resulted in a failure."),
        );
    match kind {
        ConnectorType::Sink => {
            def = def
                .define(
                    key("topics", ConfigType::List, GROUP_COMMON, 4)
                        .default("")
                        .importance(Importance::High)
                        .width(Width::Long)
                        .display_name("Topics")
                        .doc("List of topics to consume, separated by commas"),
                )
                .define(
                    key("topics.regex", ConfigType::String, GROUP_COMMON, 4)
                        .default("")
                        .importance(Importance::High)
                        .width(Width::Long)
                        .display_name("Topics regex")
                        .doc("Regular expression giving topics to consume. Under the hood, the regex is compiled to a java.util.regex.Pattern. Only one of topics or topics.regex should be specified."),
                )
                .define(
                    key("errors.deadletterqueue.topic.name", ConfigType::String, GROUP_ERRORS, 6)
                        .default("")
                        .importance(Importance::Medium)
                        .width(Width::Medium)
                        .display_name("Dead Letter Queue Topic Name")
                        .doc("The name of the topic to be used as the dead letter queue (DLQ) for messages that result in an error when processed by this sink connector, or its transformations or converters. The topic name is blank by default, which means that no messages are to be recorded in the DLQ."),
                )
                .define(
                    key("errors.deadletterqueue.topic.replication.factor", ConfigType::Short, GROUP_ERRORS, 7)
                        .default("3")
                        .importance(Importance::Medium)
                        .width(Width::Medium)
                        .display_name("Dead Letter Queue Topic Replication Factor")
                        .doc("Replication factor used to create the dead letter queue topic when it doesn't already exist."),
                )
                .define(
                    key("errors.deadletterqueue.context.headers.enable", ConfigType::Boolean, GROUP_ERRORS, 8)
                        .default("false")
                        .importance(Importance::Medium)
                        .width(Width::Medium)
                        .display_name("Enable Error Context Headers")
                        .doc("If true, add headers containing error context to the messages written to the dead letter queue. To avoid clashing with headers from the original record, all error context header keys, all error context header keys will start with __connect.errors."),
                );
        }
        ConnectorType::Source => {
            def = def
                .define(
                    key("topic.creation.groups", ConfigType::List, GROUP_TOPIC_CREATION, 1)
                        .default("")
                        .importance(Importance::Low)
                        .width(Width::Long)
                        .display_name("Topic Creation Groups")
                        .doc("Groups of configurations for topics created by source connectors"),
                )
                .define(
                    key("exactly.once.support", ConfigType::String, "Exactly Once Support", 1)
                        .default("requested")
                        .importance(Importance::Medium)
                        .width(Width::Short)
                        .validator(Validator::OneOf(vec!["requested", "required"]))
                        .doc("Permitted values are requested, required. If set to \"required\", forces a preflight check for the connector to ensure that it can provide exactly-once semantics with the given configuration."),
                )
                .define(
                    key("transaction.boundary", ConfigType::String, "Exactly Once Support", 2)
                        .default("poll")
                        .importance(Importance::Medium)
                        .width(Width::Short)
                        .validator(Validator::OneOf(vec!["poll", "interval", "connector"]))
                        .doc("Permitted values are (poll, interval, connector). Ferry has no exactly-once source support (the test broker lacks transactions)."),
                )
                .define(
                    key("offsets.storage.topic", ConfigType::String, "offsets.topic", 1)
                        .default_null()
                        .importance(Importance::Low)
                        .width(Width::Long)
                        .doc("The name of a separate offsets topic to use for this connector. If empty or not specified, the worker's global offsets topic name will be used."),
                );
        }
    }
    def
}
