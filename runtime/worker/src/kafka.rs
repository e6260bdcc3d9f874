//! Building rdkafka clients from Connect-style settings.
//!
//! Connect users' files carry Java client keys librdkafka does not know (`key.serializer`,
//! `max.block.ms`, …). Rather than keep a list, a client is created and any key librdkafka
//! reports as unknown is dropped (logged once) and creation retried: every key librdkafka does
//! understand keeps working with its Java name.

use ferry_api::{ConnectError, Props};
use rdkafka::config::ClientConfig;
use rdkafka::error::KafkaError;

/// Java client settings with no librdkafka meaning that Ferry reads itself or ignores.
const FERRY_HANDLED: &[&str] = &["max.poll.records"];

/// Creates a client from `settings` with `create`, dropping keys librdkafka does not know.
pub fn create_client<T>(
    what: &str,
    settings: &Props,
    create: impl Fn(&ClientConfig) -> Result<T, KafkaError>,
) -> Result<T, ConnectError> {
    let mut cfg = ClientConfig::new();
    for (k, v) in settings {
        if !FERRY_HANDLED.contains(&k.as_str()) {
            cfg.set(k, v);
        }
    }
    // Bounded: each round removes one key.
    for _ in 0..=settings.len() {
        match create(&cfg) {
            Ok(client) => return Ok(client),
            Err(KafkaError::ClientConfig(_, desc, key, _))
                if desc.contains("No such configuration property") =>
            {
                tracing::info!(
                    "{what}: ignoring client setting {key}, which librdkafka does not support"
                );
                cfg.remove(&key);
            }
            Err(e) => {
                return Err(ConnectError::config(format!(
                    "{what}: invalid client configuration: {e}"
                ))
                .with_source(e))
            }
        }
    }
    Err(ConnectError::config(format!(
        "{what}: could not build a client configuration"
    )))
}

/// Sets `key` to `value` unless the user set it.
pub fn default_setting(settings: &mut Props, key: &str, value: impl Into<String>) {
    settings
        .entry(key.to_owned())
        .or_insert_with(|| value.into());
}

/// The throughput and safety defaults of source-task producers (COMPAT §2.1 forces `acks=all` and
/// ordering). Ferry keeps order with the idempotent producer instead of Java's
/// `max.in.flight.requests.per.connection=1`, which would cap throughput; overridable with `producer.*`.
pub fn source_producer_defaults(settings: &mut Props, client_id: &str) {
    default_setting(settings, "client.id", client_id);
    default_setting(settings, "acks", "all");
    default_setting(settings, "enable.idempotence", "true");
    default_setting(settings, "linger.ms", "5");
    default_setting(settings, "batch.num.messages", "10000");
    default_setting(settings, "queue.buffering.max.messages", "200000");
    default_setting(settings, "queue.buffering.max.kbytes", "65536");
    // Connect sets delivery.timeout.ms=Integer.MAX_VALUE: keep retrying rather than drop a record.
    default_setting(settings, "message.timeout.ms", "0");
}

/// Defaults of sink-task consumers (COMPAT §2.1).
pub fn sink_consumer_defaults(settings: &mut Props, group_id: &str, client_id: &str) {
    default_setting(settings, "group.id", group_id);
    default_setting(settings, "client.id", client_id);
    default_setting(settings, "enable.auto.commit", "false");
    default_setting(settings, "enable.auto.offset.store", "false");
    default_setting(settings, "auto.offset.reset", "earliest");
    // Bounded prefetch: a stalled sink must not let the consumer buffer without limit. Once the
    // bound is reached librdkafka waits `fetch.queue.backoff.ms` (1 s by default) before fetching
    // again, which capped sinks at ~16 MB/s: resume within 10 ms instead (measured 44k → 237k
    // records/s for 650-byte records).
    default_setting(settings, "queued.max.messages.kbytes", "16384");
    default_setting(settings, "fetch.queue.backoff.ms", "10");
    // A subscribed topic that does not exist yet (a source creating it later) is noticed within
    // seconds instead of librdkafka's 5 minute metadata refresh.
    default_setting(settings, "topic.metadata.refresh.interval.ms", "5000");
    // Statistics feed the consumer lag metric (a JSON document every 5 s, parsed off the data path).
    default_setting(settings, "statistics.interval.ms", "5000");
}

/// Whether `settings` make an idempotent producer (`enable.idempotence`, Ferry's default for
/// source tasks, as Connect's).
pub fn is_idempotent(settings: &Props) -> bool {
    settings
        .get("enable.idempotence")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

/// Gets a new idempotent producer its producer id now rather than in ~1 s.
///
/// librdkafka's idempotent producer asks for its id from a 500 ms timer started when it is
/// created, and starts the timer over when no broker is up by then; records wait for the id.
/// A metadata response runs the same state machine at once, and asks for the id if a broker is
/// up by then. So metadata requests (in the background; their answers are not needed) let a
/// new source task's first records leave with the connection: measured with the JDBC source on
/// the test broker, first records visible 1035 ms → 75 ms after the worker started (one
/// request alone: 524 ms, the first answer arriving before the broker's own connection is up).
pub fn request_producer_id_now<C>(producer: std::sync::Arc<rdkafka::producer::ThreadedProducer<C>>)
where
    C: rdkafka::producer::ProducerContext + 'static,
{
    use rdkafka::producer::Producer;
    std::thread::spawn(move || {
        // Twice: the first answer (from the bootstrap connection) names the brokers, whose own
        // connections may not be up when it is handled; the second comes over one that is.
        for _ in 0..2 {
            if let Err(e) = producer
                .client()
                .fetch_metadata(None, std::time::Duration::from_secs(10))
            {
                tracing::debug!("early metadata request of an idempotent producer failed: {e}");
                return;
            }
        }
    });
}
