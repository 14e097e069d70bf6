//! The metric names a collector sends, known at compile time (`impl MetricNames`), and the
//! check, in constant evaluation, that a `#[flatten]` field sends none of the names of the
//! fields before it; the bounds a flattened field's type needs.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::LitStr;
use syn::spanned::Spanned;

use crate::ast::{Field, Input};
use crate::attr::{Flatten, Role};
use crate::fields::prefix;
use crate::span::located_at;

/// The metric names of every metric field, in order.
pub(crate) fn own_names(input: &Input) -> Vec<String> {
    input
        .fields
        .iter()
        .filter_map(|field| match &field.role {
            Role::Metric(metric) => metric.name.as_ref().map(LitStr::value),
            _ => None,
        })
        .collect()
}

/// `(prefix, &<Type as MetricNames>::NAMES)` of a `#[flatten]` field.
fn nested_names(field: &Field, flatten: &Flatten) -> TokenStream {
    let prefix = prefix(flatten);
    let ty = field.ty;
    quote_spanned!(located_at(ty.span())=> (#prefix, &<#ty as __p::MetricNames>::NAMES))
}

/// The flattened fields with their attributes, in order.
fn flattened<'a>(input: &'a Input) -> Vec<(&'a Field<'a>, &'a Flatten)> {
    input
        .fields
        .iter()
        .filter_map(|field| match &field.role {
            Role::Flatten(flatten) => Some((field, flatten)),
            _ => None,
        })
        .collect()
}

/// `impl MetricNames`: the names this collector sends, for the collision check of a collector
/// that flattens it.
pub(crate) fn names_impl(input: &Input) -> TokenStream {
    let ident = input.ident;
    let own = own_names(input);
    let nested: Vec<TokenStream> = flattened(input)
        .into_iter()
        .map(|(field, flatten)| nested_names(field, flatten))
        .collect();
    let (impl_generics, ty_generics, where_clause) = generics_with_flatten_bounds(input);
    quote! {
        #[automatically_derived]
        impl #impl_generics __p::MetricNames for #ident #ty_generics #where_clause {
            const NAMES: __p::Names = __p::Names {
                own: &[#(#own),*],
                nested: &[#(#nested),*],
            };
        }
    }
}

/// The struct's generics, with what a flattened field's type must be (a derived collector) as
/// bounds, so a generic struct's own bounds need not say it.
pub(crate) fn generics_with_flatten_bounds(
    input: &Input,
) -> (TokenStream, TokenStream, TokenStream) {
    let mut generics = input.generics.clone();
    let flattened = flattened(input);
    if !flattened.is_empty() {
        let where_clause = generics.make_where_clause();
        for (field, _) in flattened {
            let ty = field.ty;
            where_clause.predicates.push(syn::parse_quote!(
                #ty: __p::MetricCollector + __p::DescribeMetrics + __p::MetricNames
            ));
        }
    }
    let (impl_generics, _, where_clause) = generics.split_for_impl();
    let (_, ty_generics, _) = input.generics.split_for_impl();
    (
        quote!(#impl_generics),
        quote!(#ty_generics),
        quote!(#where_clause),
    )
}

/// For each `#[flatten]` field, a check in constant evaluation that none of its names is a name
/// of the fields before it (or of a metric field), failing the build at its attribute. Returns
/// the checks, and what `collect_mut` evaluates for a generic struct (whose field types are
/// only known where it is used).
pub(crate) fn flatten_checks(input: &Input) -> (TokenStream, TokenStream) {
    let flattened = flattened(input);
    if flattened.is_empty() {
        return (TokenStream::new(), TokenStream::new());
    }
    let ident = input.ident;
    let own = own_names(input);
    let mut earlier: Vec<TokenStream> = Vec::new();
    let mut checks = Vec::new();
    for (field, flatten) in flattened {
        let this = nested_names(field, flatten);
        let at = flatten
            .prefix
            .as_ref()
            .map_or(flatten.path_span, LitStr::span);
        checks.push(quote_spanned! {located_at(at)=>
            __p::assert_disjoint(
                &__p::Names { own: &[#(#own),*], nested: &[#(#earlier),*] },
                &__p::Names { own: &[], nested: &[#this] },
            );
        });
        earlier.push(this);
    }
    let (impl_generics, ty_generics, where_clause) = generics_with_flatten_bounds(input);
    let generic = !input.generics.params.is_empty();
    let evaluate = if generic {
        TokenStream::new()
    } else {
        quote!(const _: () = <#ident as __FlattenedNamesDiffer>::CHECKED;)
    };
    let checks = quote! {
        /// Fails the build if two fields would send the same metric name.
        trait __FlattenedNamesDiffer {
            const CHECKED: ();
        }
        impl #impl_generics __FlattenedNamesDiffer for #ident #ty_generics #where_clause {
            const CHECKED: () = {
                #(#checks)*
            };
        }
        #evaluate
    };
    let on_use = if generic {
        quote!(let () = <Self as __FlattenedNamesDiffer>::CHECKED;)
    } else {
        TokenStream::new()
    };
    (checks, on_use)
}
