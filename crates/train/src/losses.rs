//! Losses (being built).
