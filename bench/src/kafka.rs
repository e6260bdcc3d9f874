//! Kafka client settings shared by the baselines.

use rdkafka::config::ClientConfig;

/// The producer settings Ferry's worker uses by default (DESIGN.md §7), so the
/// baseline measures the same client configuration, minus Ferry.
pub const FERRY_PRODUCER_DEFAULTS: &[(&str, &str)] = &[
    ("linger.ms", "5"),
    ("batch.num.messages", "10000"),
    ("compression.type", "none"),
    ("acks", "all"),
    ("enable.idempotence", "true"),
    ("queue.buffering.max.messages", "200000"),
    ("queue.buffering.max.kbytes", "65536"),
];

/// A client config for `bootstrap`.
pub fn client_config(bootstrap: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", bootstrap);
    config
}

/// [`client_config`] with [`FERRY_PRODUCER_DEFAULTS`].
pub fn producer_config(bootstrap: &str) -> ClientConfig {
    let mut config = client_config(bootstrap);
    for (k, v) in FERRY_PRODUCER_DEFAULTS {
        config.set(*k, *v);
    }
    config
}

/// A consumer that reads by assignment (no group coordination), with short
/// fetch waits because the test broker does not answer a waiting fetch early.
pub fn consumer_config(bootstrap: &str, group: &str) -> ClientConfig {
    let mut config = client_config(bootstrap);
    config
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .set("fetch.wait.max.ms", "50")
        // Ferry's sink consumer defaults, so the baseline uses the same client configuration.
        .set("queued.max.messages.kbytes", "16384")
        .set("fetch.queue.backoff.ms", "10");
    config
}
