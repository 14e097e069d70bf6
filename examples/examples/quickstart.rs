//! Placeholder until the integration lands.
fn main() {}
