//! Code generation for a checked input.
//!
//! The output is meant to be read (`cargo expand`, and the snapshots in `src/snapshots/`): one
//! statement per metric, calling small helpers in `sentry_runtime_metrics::__private`, all inside a
//! `const _: () = { .. };` so nothing leaks into the user's namespace, with absolute paths so
//! shadowed prelude names (`Option`, `Vec`, `Result`) cannot change its meaning.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use crate::ast::Input;
use crate::attr::Role;
use crate::collector_name::collector_name;
use crate::fields::{collect_nested, describe, push_metrics, totals_sample};
use crate::names::{flatten_checks, generics_with_flatten_bounds, names_impl};
use crate::sample::sample_method;
use crate::span::located_at;

/// Generates the `MetricCollector`, `DescribeMetrics` and `MetricNames` impls.
pub(crate) fn derive(input: &Input) -> TokenStream {
    let ident = input.ident;
    let (impl_generics, ty_generics, where_clause) = generics_with_flatten_bounds(input);
    let collector_name = collector_name(input);
    let (sample_fallback, sample_call) = sample_method(input);
    let capacity = input
        .fields
        .iter()
        .filter(|field| matches!(field.role, Role::Metric(_)))
        .count();
    let capacity = proc_macro2::Literal::usize_unsuffixed(capacity);
    let nested = input
        .fields
        .iter()
        .enumerate()
        .filter_map(|(index, field)| collect_nested(index, field));
    let totals = totals_sample(input);
    let pushes = input
        .fields
        .iter()
        .enumerate()
        .filter_map(|(index, field)| push_metrics(index, field));
    let attributes = input.fields.iter().find_map(|field| match field.role {
        Role::Attributes(_) => {
            let member = field.ident;
            let span = located_at(field.ty.span());
            Some(quote_spanned!(span=> __batch.add_attributes(&self.#member);))
        }
        _ => None,
    });
    let describes = input.fields.iter().filter_map(describe);
    let finished = input
        .fields
        .iter()
        .find_map(|field| match field.role {
            Role::Finished(_) => {
                let member = field.ident;
                let span = located_at(field.ty.span());
                // A typed binding: a field of another type is reported at the field, as
                // "expected `bool`".
                Some(quote_spanned!(span=> {
                    let __finished: bool = self.#member;
                    __finished
                }))
            }
            _ => None,
        })
        .unwrap_or_else(|| quote!(false));
    let names = names_impl(input);
    let (flatten_checks, check_on_use) = flatten_checks(input);

    quote! {
        #[doc(hidden)]
        #[allow(non_local_definitions, unused_qualifications, clippy::all)]
        const _: () = {
            use ::sentry_runtime_metrics::__private as __p;

            #sample_fallback

            #[automatically_derived]
            impl #impl_generics __p::MetricCollector for #ident #ty_generics #where_clause {
                fn collect(&self) -> __p::Vec<__p::RuntimeMetric> {
                    __p::collect_on_clone(self)
                }

                fn name(&self) -> &'static str {
                    #collector_name
                }

                fn collect_mut(&mut self) -> __p::Result<__p::Collected, __p::CollectError> {
                    #check_on_use
                    #sample_call
                    let mut __batch = __p::Batch::with_capacity(#capacity);
                    #(#nested)*
                    #totals
                    #(#pushes)*
                    #attributes
                    __p::Ok(__batch.into_collected(#finished))
                }

                fn descriptors(&self) -> __p::Vec<__p::MetricDescriptor> {
                    <Self as __p::DescribeMetrics>::describe()
                }
            }

            #[automatically_derived]
            impl #impl_generics __p::DescribeMetrics for #ident #ty_generics #where_clause {
                fn describe() -> __p::Vec<__p::MetricDescriptor> {
                    let mut __descriptors = __p::Descriptors::default();
                    #(#describes)*
                    __descriptors.into_vec()
                }
            }

            #names
            #flatten_checks
        };
    }
}
