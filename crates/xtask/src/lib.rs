//! Tidy checks live in tests/tidy.rs.
