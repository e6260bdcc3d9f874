//! Connect group membership (COMPAT §4): the sub-protocols' wire blobs, the group member that
//! speaks the classic group protocol to the coordinator, and the assignor the leader runs.

pub mod assignor;
pub(crate) mod connection;
pub mod member;
pub mod protocol;

pub use connection::ConnectionError;
