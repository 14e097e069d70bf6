//! Reading one `key = "value"` (or `flag`) item of an attribute: its key, its string value
//! once, and skipping what is left of an item that is wrong, so parsing goes on with the next.

use proc_macro2::TokenTree;
use syn::meta::ParseNestedMeta;
use syn::{LitStr, Token};

use crate::ctxt::Ctxt;

/// The key of a `key = value` item as a string; reports paths like `a::b`, which are never keys.
pub(crate) fn key_of(cx: &Ctxt, meta: &ParseNestedMeta) -> Option<String> {
    match meta.path.get_ident() {
        Some(ident) => Some(ident.to_string()),
        None => {
            cx.error_spanned_by(&meta.path, "expected a key such as `name`");
            None
        }
    }
}

/// Parses `= "string"` into `slot`, reporting a second occurrence of the same key at that key.
pub(crate) fn set_once(
    cx: &Ctxt,
    meta: &ParseNestedMeta,
    slot: &mut Option<LitStr>,
) -> syn::Result<()> {
    let key = meta.path.segments[0].ident.to_string();
    let Ok(input) = meta.value() else {
        cx.error_spanned_by(&meta.path, format!("expected `{key} = \"..\"`"));
        return skip_value(meta);
    };
    match input.parse::<LitStr>() {
        Ok(lit) => {
            if slot.is_some() {
                cx.error_spanned_by(&meta.path, format!("duplicate key `{key}`"));
            } else {
                *slot = Some(lit);
            }
            Ok(())
        }
        Err(_) => {
            let found: TokenTree = input.parse()?;
            cx.error_spanned_by(
                &found,
                format!("expected a string literal: `{key} = \"..\"`"),
            );
            skip_value(meta)
        }
    }
}

/// Skips what is left of the current item so parsing continues with the next key.
pub(crate) fn skip_value(meta: &ParseNestedMeta) -> syn::Result<()> {
    let input = meta.input;
    while !input.is_empty() && !input.peek(Token![,]) {
        input.parse::<TokenTree>()?;
    }
    Ok(())
}
