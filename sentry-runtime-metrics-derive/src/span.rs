//! Spans of the generated code.

use proc_macro2::Span;

/// A span that reports errors at `span` (a user token) but resolves names like the rest of the
/// generated code, so `self` and our locals work even when the struct comes from `macro_rules!`.
pub(crate) fn located_at(span: Span) -> Span {
    Span::call_site().located_at(span)
}
