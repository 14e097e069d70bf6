//! The generated code of each field: what its metrics add to the collection (`__batch`) and to
//! the descriptors, with the running totals of counter fields and the nested collectors of
//! `#[flatten]` fields.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use crate::ast::{Field, Input};
use crate::attr::{Flatten, Kind, Metric, Role};
use crate::span::located_at;
use crate::valid;

/// `let __nested_N = ..?;`: what the nested collector of `#[flatten]` field number `index`
/// collected. Every nested collector runs before any running total is recorded, so one that
/// fails leaves the totals as they were, for the next round to send what they grew by.
pub(crate) fn collect_nested(index: usize, field: &Field) -> Option<TokenStream> {
    let Role::Flatten(_) = field.role else {
        return None;
    };
    let member = field.ident;
    let nested = nested_ident(index);
    let span = located_at(field.ty.span());
    Some(quote_spanned! {span=>
        let #nested = __p::MetricCollector::collect_mut(&mut self.#member)?;
    })
}

fn nested_ident(index: usize) -> proc_macro2::Ident {
    format_ident!("__nested_{}", index)
}

/// `let mut __totals = ..;`: this collection's sample of the `#[totals]` field, when a counter
/// field holds a running total (the checks made sure the field is there).
pub(crate) fn totals_sample(input: &Input) -> Option<TokenStream> {
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
pub(crate) fn push_metrics(index: usize, field: &Field) -> Option<TokenStream> {
    let member = field.ident;
    match &field.role {
        Role::State | Role::Attributes(_) | Role::Finished(_) | Role::Totals(_) => None,
        Role::Flatten(flatten) => {
            let prefix = prefix(flatten);
            let nested = nested_ident(index);
            Some(quote! {
                __batch.extend_prefixed(#prefix, #nested);
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

pub(crate) fn prefix(flatten: &Flatten) -> String {
    flatten
        .prefix
        .as_ref()
        .map(|lit| lit.value())
        .unwrap_or_default()
}

/// The statement that adds one field's descriptors to `__descriptors`.
pub(crate) fn describe(field: &Field) -> Option<TokenStream> {
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
