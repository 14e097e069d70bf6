//! Code generation for a checked input.
//!
//! The output is meant to be read (`cargo expand`, and the snapshots in `src/snapshots/`): one
//! statement per metric, calling small helpers in `sentry_runtime_metrics::__private`, all inside a
//! `const _: () = { .. };` so nothing leaks into the user's namespace, with absolute paths so
//! shadowed prelude names (`Option`, `Vec`, `Result`) cannot change its meaning.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::LitStr;
use syn::spanned::Spanned;

use crate::ast::{Field, Input};
use crate::attr::{Flatten, Kind, Metric, Role};
use crate::valid;

/// Generates the `MetricCollector`, `DescribeMetrics` and `MetricNames` impls.
pub(crate) fn derive(input: &Input) -> TokenStream {
    let ident = input.ident;
    let (plain_impl_generics, plain_ty_generics, plain_where_clause) =
        input.generics.split_for_impl();
    let (impl_generics, ty_generics, where_clause) = generics_with_flatten_bounds(input);
    let collector_name = collector_name(input);
    let sample = input.container.sample.as_ref().map_or_else(
        || format_ident!("sample"),
        |lit| format_ident!("{}", lit.value()),
    );
    // Errors about the sample method point at the struct's name.
    let sample_call = quote_spanned! {located_at(ident.span())=>
        __p::sample_outcome(#collector_name, (*self).#sample())?;
    };
    let capacity = input
        .fields
        .iter()
        .filter(|field| matches!(field.role, Role::Metric(_)))
        .count();
    let capacity = proc_macro2::Literal::usize_unsuffixed(capacity);
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

            /// Chosen by method resolution only when the struct has no sample method of its own,
            /// turning "no method named `sample`" into an error that says what to write.
            #[allow(dead_code)]
            trait __SampleMethodFallback {
                fn #sample(&mut self) -> __p::no_sample_method_found;
            }
            impl #plain_impl_generics __SampleMethodFallback for #ident #plain_ty_generics #plain_where_clause {
                fn #sample(&mut self) -> __p::no_sample_method_found {
                    __p::no_sample_method_found
                }
            }

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

/// The metric names of every metric field, in order.
fn own_names(input: &Input) -> Vec<String> {
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
fn names_impl(input: &Input) -> TokenStream {
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
fn generics_with_flatten_bounds(input: &Input) -> (TokenStream, TokenStream, TokenStream) {
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
fn flatten_checks(input: &Input) -> (TokenStream, TokenStream) {
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

/// A span that reports errors at `span` (a user token) but resolves names like the rest of the
/// generated code, so `self` and our locals work even when the struct comes from `macro_rules!`.
fn located_at(span: Span) -> Span {
    Span::call_site().located_at(span)
}

/// `#[collector(name = "..")]`, or the struct's name in kebab-case.
pub(crate) fn collector_name(input: &Input) -> String {
    match &input.container.name {
        Some(name) => name.value(),
        None => kebab_case(&input.ident.to_string()),
    }
}

/// `QueueMetrics` -> `queue-metrics`, `HTTPServerStats` -> `http-server-stats`.
fn kebab_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c == '_' {
            out.push('-');
            continue;
        }
        if c.is_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next_is_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if prev != '_' && (prev.is_lowercase() || prev.is_ascii_digit() || next_is_lower) {
                out.push('-');
            }
        }
        out.extend(c.to_lowercase());
    }
    out
}

/// `let mut __totals = ..;`: this collection's sample of the `#[totals]` field, when a counter
/// field holds a running total (the checks made sure the field is there).
fn totals_sample(input: &Input) -> Option<TokenStream> {
    let running = input.fields.iter().any(|field| match &field.role {
        Role::Metric(metric) => metric.is_running_total(),
        _ => false,
    });
    let field = input
        .fields
        .iter()
        .find(|field| matches!(field.role, Role::Totals(_)))?;
    let member = field.ident;
    let span = located_at(field.ty.span());
    // A typed binding: a field of another type is reported at the field, as "expected
    // `RunningTotals`".
    running.then(|| {
        quote_spanned! {span=>
            let __totals_field: &mut __p::RunningTotals = &mut self.#member;
            let mut __totals = __totals_field.sample();
        }
    })
}

/// The statement that adds one field's metrics to `__batch`; `index` is the field's position,
/// which tells its running totals apart from the other fields'.
fn push_metrics(index: usize, field: &Field) -> Option<TokenStream> {
    let member = field.ident;
    match &field.role {
        Role::State | Role::Attributes(_) | Role::Finished(_) | Role::Totals(_) => None,
        Role::Flatten(flatten) => {
            let prefix = prefix(flatten);
            let span = located_at(field.ty.span());
            Some(quote_spanned! {span=>
                __batch.extend_prefixed(#prefix, __p::MetricCollector::collect_mut(&mut self.#member)?);
            })
        }
        Role::Metric(metric) => {
            let name = metric.name.as_ref()?.value();
            let kind = format_ident!("{}", metric.kind.variant());
            let unit = unit_tokens(metric);
            let span = located_at(field.ty.span());
            let running = metric.is_running_total().then(|| {
                let index =
                    proc_macro2::Literal::u16_unsuffixed(u16::try_from(index).unwrap_or(u16::MAX));
                let began = if metric.began_earlier.is_some() {
                    quote!(__p::Began::Earlier)
                } else {
                    quote!(__p::Began::AtZero)
                };
                (index, began)
            });
            Some(match (metric.kind, &metric.attribute, running) {
                (Kind::Distribution, _, _) => {
                    let convert = convert(metric, span, quote!(__value));
                    quote_spanned! {span=>
                        __p::Samples::for_each_sample(&self.#member, |__value| {
                            __batch.push(#name, __p::MetricType::#kind, #unit, #convert)
                        });
                    }
                }
                (_, Some(attribute), None) => {
                    let convert = convert(metric, span, quote!(__value));
                    quote_spanned! {span=>
                        __p::Series::for_each_entry(&self.#member, |__label, __value| {
                            __batch.push_labelled(#name, __p::MetricType::#kind, #unit, #attribute, __label, #convert)
                        });
                    }
                }
                (_, Some(attribute), Some((index, began))) => {
                    let convert = convert(metric, span, quote!(__value));
                    quote_spanned! {span=>
                        __p::Series::for_each_entry(&self.#member, |__label, __value| {
                            __batch.push_labelled_total(&mut __totals, #index, #began, #name, #attribute, __label, #convert)
                        });
                    }
                }
                (_, None, None) => {
                    let convert = convert(metric, span, quote_spanned!(span=> &self.#member));
                    quote! {
                        __batch.push(#name, __p::MetricType::#kind, #unit, #convert);
                    }
                }
                (_, None, Some((index, began))) => {
                    let convert = convert(metric, span, quote_spanned!(span=> &self.#member));
                    quote! {
                        __batch.push_total(&mut __totals, #index, #began, #name, #convert);
                    }
                }
            })
        }
    }
}

/// The conversion of `value` (a reference to the field's value type) to a `MetricValue`,
/// spanned at the field type so a type without the needed impl is reported there.
fn convert(metric: &Metric, span: Span, value: TokenStream) -> TokenStream {
    match time_unit(metric) {
        Some(time) => {
            let time = format_ident!("{}", time.variant());
            quote_spanned!(span=> __p::TimedValue::timed_value(#value, __p::TimeUnit::#time))
        }
        None => quote_spanned!(span=> __p::ScalarValue::scalar_value(#value)),
    }
}

fn time_unit(metric: &Metric) -> Option<crate::units::TimeUnit> {
    metric.unit.as_ref().and_then(valid::canonical_unit)?.time
}

fn unit_tokens(metric: &Metric) -> TokenStream {
    match metric.unit.as_ref().and_then(valid::canonical_unit) {
        Some(unit) => {
            let name = unit.name;
            quote!(__p::Some(#name))
        }
        None => quote!(__p::None),
    }
}

fn prefix(flatten: &Flatten) -> String {
    flatten
        .prefix
        .as_ref()
        .map(|lit| lit.value())
        .unwrap_or_default()
}

/// The statement that adds one field's descriptors to `__descriptors`.
fn describe(field: &Field) -> Option<TokenStream> {
    match &field.role {
        Role::State | Role::Attributes(_) | Role::Finished(_) | Role::Totals(_) => None,
        Role::Flatten(flatten) => {
            let prefix = prefix(flatten);
            let ty = field.ty;
            Some(quote_spanned! {located_at(ty.span())=>
                __descriptors.extend_prefixed(#prefix, <#ty as __p::DescribeMetrics>::describe());
            })
        }
        Role::Metric(metric) => {
            let name = metric.name.as_ref()?.value();
            let kind = format_ident!("{}", metric.kind.variant());
            let unit = unit_tokens(metric);
            let doc = &field.doc;
            let attribute = match &metric.attribute {
                Some(attribute) => quote!(__p::Some(#attribute)),
                None => quote!(__p::None),
            };
            Some(quote! {
                __descriptors.push(#name, __p::MetricType::#kind, #unit, #doc, #attribute);
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::kebab_case;

    #[test]
    fn kebab_case_splits_words_and_acronyms() {
        assert_eq!(kebab_case("QueueMetrics"), "queue-metrics");
        assert_eq!(kebab_case("HTTPServerStats"), "http-server-stats");
        assert_eq!(kebab_case("Io2Metrics"), "io2-metrics");
        assert_eq!(kebab_case("snake_case_name"), "snake-case-name");
        assert_eq!(kebab_case("X"), "x");
    }
}
