//! What is emitted when the input has errors: the errors, plus stub impls of the traits so the
//! rest of the user's crate still type-checks and the user sees only the real mistakes, not a
//! cascade of "`QueueMetrics` does not implement `MetricCollector`" (as thiserror-impl does).

use proc_macro2::TokenStream;
use quote::quote;
use syn::DeriveInput;

pub(crate) fn expand(input: &DeriveInput, error: syn::Error) -> TokenStream {
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let error = error.into_compile_error();
    // Only structs get stubs: for an enum or union the error already says what to do.
    let stubs = matches!(input.data, syn::Data::Struct(_)).then(|| {
        quote! {
            #[allow(unused_qualifications, clippy::all)]
            const _: () = {
                use ::sentry_runtime_metrics::__private as __p;

                #[automatically_derived]
                impl #impl_generics __p::MetricCollector for #ident #ty_generics #where_clause {
                    fn collect(&self) -> __p::Vec<__p::RuntimeMetric> {
                        ::core::unreachable!()
                    }
                    fn name(&self) -> &'static str {
                        ::core::unreachable!()
                    }
                }

                #[automatically_derived]
                impl #impl_generics __p::DescribeMetrics for #ident #ty_generics #where_clause {
                    fn describe() -> __p::Vec<__p::MetricDescriptor> {
                        ::core::unreachable!()
                    }
                }
            };
        }
    });
    quote! {
        #error
        #stubs
    }
}
