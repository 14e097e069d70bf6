//! The call of the user's sample method, and the fallback that turns a missing one into an
//! error naming the struct and the method.

use proc_macro2::{Ident, TokenStream};
use quote::quote_spanned;

use crate::ast::Input;
use crate::collector_name::collector_name;
use crate::span::located_at;

/// The fallback items of the expansion, and the statement of `collect_mut` that calls the
/// sample method.
///
/// Method resolution prefers the struct's own method; without one it finds the fallback, whose
/// `where Self: HasSampleMethod` holds for no type: the error is that trait's message, naming the
/// struct and saying what to write. Both are
/// spanned at the struct's name (or at the `sample = ".."` naming the method), so that is where
/// the error points.
pub(crate) fn sample_method(input: &Input) -> (TokenStream, TokenStream) {
    let ident = input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let collector_name = collector_name(input);
    let (sample, span) = match &input.container.sample {
        Some(lit) => (Ident::new(&lit.value(), lit.span()), lit.span()),
        None => (Ident::new("sample", ident.span()), ident.span()),
    };
    let fallback = quote_spanned! {located_at(span)=>
        /// Chosen by method resolution only when the struct has no sample method of its own.
        trait __SampleMethodFallback {
            fn #sample(&mut self)
            where
                Self: __p::HasSampleMethod;
        }

        impl #impl_generics __SampleMethodFallback for #ident #ty_generics #where_clause {
            fn #sample(&mut self) {}
        }
    };
    let call = quote_spanned! {located_at(span)=>
        let __outcome = (*self).#sample();
        __p::sample_outcome(
            #collector_name,
            <_ as __p::SampleOutcome<Self>>::into_result(__outcome),
        )?;
    };
    (fallback, call)
}
