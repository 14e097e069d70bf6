//! Semantic checks: what the attribute values mean for Sentry. Every rule here exists because
//! Sentry's ingestion would otherwise drop or silently rewrite the metric, so the user would never
//! find it in the product.

use std::collections::BTreeMap;

use syn::{LitStr, Type};

use crate::ast::{Field, Input};
use crate::attr::{Kind, Metric, Role};
use crate::ctxt::Ctxt;
use crate::units;

/// Checks the whole input, recording every problem in `cx`.
pub(crate) fn check(cx: &Ctxt, input: &Input) {
    check_container(cx, input);
    let mut seen: BTreeMap<String, &syn::Ident> = BTreeMap::new();
    let mut attributes_field: Option<&syn::Ident> = None;
    let mut finished_field: Option<&syn::Ident> = None;
    let mut totals_field: Option<&syn::Ident> = None;
    for field in &input.fields {
        match &field.role {
            Role::State => {}
            Role::Totals(span) => only_one(cx, "totals", &mut totals_field, field, *span),
            Role::Attributes(span) => {
                only_one(cx, "attributes", &mut attributes_field, field, *span)
            }
            Role::Finished(span) => only_one(cx, "finished", &mut finished_field, field, *span),
            Role::Metric(metric) => {
                check_metric(cx, field, metric);
                if let Some(name) = &metric.name {
                    let value = name.value();
                    if let Some(first) = seen.get(&value) {
                        cx.error_spanned_by(
                            name,
                            format!(
                                "metric `{value}` is already sent by field `{first}`; each metric \
                                 of a collector needs its own name"
                            ),
                        );
                    } else {
                        seen.insert(value, field.ident);
                    }
                }
            }
            Role::Flatten(flatten) => {
                if let Some(prefix) = &flatten.prefix
                    && let Some(message) = charset_problem("prefix", &prefix.value())
                {
                    cx.error_spanned_by(prefix, message);
                }
            }
        }
    }
    if totals_field.is_none() {
        check_totals_kept(cx, input);
    }
}

/// Counter fields that hold running totals need a `#[totals]` field, where the derive keeps
/// their last values: reported once, at the first of them.
fn check_totals_kept(cx: &Ctxt, input: &Input) {
    let running: Vec<(&syn::Ident, &Metric)> = input
        .fields
        .iter()
        .filter_map(|field| match &field.role {
            Role::Metric(metric) if metric.is_running_total() => Some((field.ident, metric)),
            _ => None,
        })
        .collect();
    let Some((first, metric)) = running.first() else {
        return;
    };
    let fields = running
        .iter()
        .map(|(ident, _)| format!("`{ident}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let (these, hold, each) = if running.len() == 1 {
        ("field", "holds a running total", "it")
    } else {
        ("fields", "hold running totals", "each")
    };
    cx.error_at(
        metric.path_span,
        format!(
            "#[counter] {these} {fields} {hold}: each round sends what {each} grew by, so the \
             derive keeps the last value in a field of the struct; add \
             `#[totals] totals: sentry_runtime_metrics::RunningTotals,` to `{}` (or, if the sample \
             method writes the increase itself, mark `{first}` #[counter(name = \"..\", delta)])",
            input.ident
        ),
    );
}

/// Reports a second field carrying the role `#[{attr}]`, of which a collector has at most one.
fn only_one<'a>(
    cx: &Ctxt,
    attr: &str,
    first: &mut Option<&'a syn::Ident>,
    field: &Field<'a>,
    span: proc_macro2::Span,
) {
    match first {
        Some(first) => cx.error_at(
            span,
            format!("only one #[{attr}] field per collector; `{first}` is already one"),
        ),
        None => *first = Some(field.ident),
    }
}

fn check_container(cx: &Ctxt, input: &Input) {
    if let Some(name) = &input.container.name
        && name.value().trim().is_empty()
    {
        cx.error_spanned_by(
            name,
            "collector name is empty; it names the collector in logs, e.g. \"work-queue\"",
        );
    }
    if let Some(sample) = &input.container.sample
        && syn::parse_str::<syn::Ident>(&sample.value()).is_err()
    {
        cx.error_spanned_by(
            sample,
            "`sample` names a method of the struct, e.g. `sample = \"refresh\"`",
        );
    }
}

fn check_metric(cx: &Ctxt, field: &Field, metric: &Metric) {
    let attr = metric.kind.attr_name();
    match &metric.name {
        None => cx.error_at(
            metric.path_span,
            format!(
                "missing metric name: write #[{attr}(name = \"app.{}\")]",
                field.ident
            ),
        ),
        Some(name) => {
            if let Some(message) = name_problem(&name.value()) {
                cx.error_spanned_by(name, message);
            }
        }
    }
    if let Some(attribute) = &metric.attribute
        && let Some(message) = charset_problem("attribute key", &attribute.value())
    {
        cx.error_spanned_by(attribute, message);
    }
    if metric.kind == Kind::Counter {
        if let (Some(_), Some(began_earlier)) = (metric.delta, metric.began_earlier) {
            cx.error_at(
                began_earlier,
                "`began_earlier` is for a field that holds a running total; a `delta` field holds \
                 the increase itself: keep one of the two",
            );
        }
        if let Some(key) = metric.unit_key {
            cx.error_at(
                key,
                "Sentry counters are unitless: remove `unit` (or use #[gauge] if this field holds \
                 a current level rather than a count of events)",
            );
        }
        return;
    }
    let unit = metric
        .unit
        .as_ref()
        .map(|lit| (lit, units::lookup(&lit.value())));
    if let Some((lit, None)) = unit {
        let text = lit.value();
        if units::is_a_count(&text) {
            cx.error_spanned_by(
                lit,
                format!(
                    "`{text}` is not a unit: a number of things takes no unit in Sentry (it would \
                     strip this one); leave `unit` out and let the name say what is counted"
                ),
            );
            return;
        }
        cx.error_spanned_by(
            lit,
            format!(
                "unknown unit `{text}`: Sentry strips units it does not know; did you mean `{}`? \
                 Known units: {}",
                units::closest(&text),
                known_units()
            ),
        );
    }
    if let Some(duration) = find_duration(field.ty) {
        match unit {
            None => cx.error_spanned_by(
                duration,
                format!(
                    "a `Duration` needs a time unit to be sent as a number: add \
                     `unit = \"millisecond\"` to #[{attr}(..)] (or nanosecond, microsecond, \
                     second, minute, hour, day, week)"
                ),
            ),
            Some((lit, Some(known))) if known.time.is_none() => cx.error_spanned_by(
                lit,
                format!(
                    "`{}` is not a time unit, but this field is a `Duration`: use nanosecond, \
                     microsecond, millisecond, second, minute, hour, day or week",
                    known.name
                ),
            ),
            Some(_) => {}
        }
    }
}

/// Why a metric name would not arrive in Sentry as written, if it would not.
fn name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some(
            "metric name is empty; Sentry drops metrics without a name: write e.g. \
             `name = \"app.queue.depth\"`"
                .to_owned(),
        );
    }
    charset_problem("metric name", name)
}

/// Names and keys may only use `[A-Za-z0-9_.]`; Sentry rewrites each run of anything else to
/// one `_`.
fn charset_problem(what: &str, text: &str) -> Option<String> {
    if text.chars().all(is_allowed) {
        return None;
    }
    let mut rewritten = String::with_capacity(text.len());
    let mut in_run = false;
    for c in text.chars() {
        if is_allowed(c) {
            rewritten.push(c);
        } else if !in_run {
            rewritten.push('_');
        }
        in_run = !is_allowed(c);
    }
    Some(format!(
        "{what} `{text}` has characters Sentry rewrites to `_` (allowed: A-Z a-z 0-9 _ .), so it \
         would arrive as `{rewritten}`; write `{rewritten}` or separate words with `.`"
    ))
}

fn is_allowed(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.'
}

fn known_units() -> String {
    units::UNITS
        .iter()
        .map(|unit| unit.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The `Duration` path segment inside `ty` (`Duration`, `Option<Duration>`,
/// `Vec<std::time::Duration>`, ...), if any.
pub(crate) fn find_duration(ty: &Type) -> Option<&syn::Ident> {
    match ty {
        Type::Path(path) => path.path.segments.iter().find_map(|segment| {
            if segment.ident == "Duration" {
                return Some(&segment.ident);
            }
            let syn::PathArguments::AngleBracketed(args) = &segment.arguments else {
                return None;
            };
            args.args.iter().find_map(|arg| match arg {
                syn::GenericArgument::Type(ty) => find_duration(ty),
                _ => None,
            })
        }),
        Type::Array(array) => find_duration(&array.elem),
        Type::Slice(slice) => find_duration(&slice.elem),
        Type::Reference(reference) => find_duration(&reference.elem),
        Type::Paren(paren) => find_duration(&paren.elem),
        Type::Group(group) => find_duration(&group.elem),
        _ => None,
    }
}

/// The literal's value; used by `expand` once `check` found no problem.
pub(crate) fn canonical_unit(lit: &LitStr) -> Option<&'static units::Unit> {
    units::lookup(&lit.value())
}
