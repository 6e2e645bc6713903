//! Placeholder replaced by the integration tests.
