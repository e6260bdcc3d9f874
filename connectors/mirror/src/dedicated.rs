//! Dedicated mode (`connect-mirror-maker.sh mm2.properties [--clusters A B]`, COMPAT §9.2): turns
//! one `mm2.properties` into, for every ordered pair of clusters that needs a herder, a worker
//! config (on the target cluster) and the configs of the three MM2 connectors.
