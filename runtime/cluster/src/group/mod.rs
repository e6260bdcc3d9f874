//! Connect group membership (COMPAT §4).

pub mod protocol;
