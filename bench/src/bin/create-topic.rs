//! Creates a topic with an explicit partition count (the broker would
//! auto-create it with its own default otherwise).

use std::time::Duration;

use ferry_bench::args::Args;
use ferry_bench::kafka::client_config;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;

const USAGE: &str = "create-topic --bootstrap HOST:PORT --topic T [--partitions 1]";

fn main() {
    let args = Args::parse(USAGE);
    let bootstrap: String = args.required("bootstrap");
    let topic: String = args.required("topic");
    let partitions: i32 = args.get_or("partitions", 1);
    let admin: AdminClient<DefaultClientContext> = client_config(&bootstrap)
        .create()
        .unwrap_or_else(|e| panic!("admin client for {bootstrap}: {e}"));
    let new_topic = NewTopic::new(&topic, partitions, TopicReplication::Fixed(1));
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
    let results = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("tokio runtime")
        .block_on(admin.create_topics([&new_topic], &options))
        .unwrap_or_else(|e| panic!("create topic {topic}: {e}"));
    for result in results {
        if let Err((name, code)) = result {
            eprintln!("create-topic: {name}: {code}");
            std::process::exit(1);
        }
    }
}
