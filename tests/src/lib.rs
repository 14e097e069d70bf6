//! End-to-end tests of sentry-runtime-metrics live in `tests/`. This library only makes the code
//! blocks of the workspace README run as doctests, so the README cannot drift from the API.

#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
