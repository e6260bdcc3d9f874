//! Stores on the internal topics (COMPAT §3).
