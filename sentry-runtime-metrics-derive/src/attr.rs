//! The attribute language: `#[collector(..)]` on the struct, `#[gauge(..)]`, `#[counter(..)]`,
//! `#[distribution(..)]` and `#[flatten(..)]` on fields.
//!
//! This module only reads syntax: each key once, with its span kept so later checks can point at
//! the exact token. What the values mean is checked in `valid`.

use proc_macro2::Span;
use syn::{Attribute, LitStr, Token};

use crate::ctxt::Ctxt;
use crate::syntax::{key_of, set_once, skip_value};

/// Keys of `#[collector(..)]`.
const COLLECTOR_KEYS: &str = "`name`, `sample`";
/// Keys of `#[flatten(..)]`.
const FLATTEN_KEYS: &str = "`prefix`";

/// `#[collector(..)]` on the struct.
#[derive(Default)]
pub(crate) struct Container {
    /// `name = ".."`: what `MetricCollector::name()` returns.
    pub(crate) name: Option<LitStr>,
    /// `sample = ".."`: the method called before each collection (default `sample`).
    pub(crate) sample: Option<LitStr>,
}

/// Which of Sentry's metric types a field is sent as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Gauge,
    Counter,
    Distribution,
}

impl Kind {
    pub(crate) fn attr_name(self) -> &'static str {
        match self {
            Kind::Gauge => "gauge",
            Kind::Counter => "counter",
            Kind::Distribution => "distribution",
        }
    }

    pub(crate) fn variant(self) -> &'static str {
        match self {
            Kind::Gauge => "Gauge",
            Kind::Counter => "Counter",
            Kind::Distribution => "Distribution",
        }
    }

    /// The keys each kind accepts, as listed in error messages.
    fn valid_keys(self) -> &'static str {
        match self {
            Kind::Gauge => "`name`, `unit`, `attribute`",
            Kind::Counter => "`name`, `attribute`, `delta`, `began_earlier`",
            Kind::Distribution => "`name`, `unit`",
        }
    }

    fn accepts(self, key: &str) -> bool {
        match self {
            Kind::Gauge => matches!(key, "name" | "unit" | "attribute"),
            // `unit` is parsed for counters only to explain why it is wrong (see `valid`).
            Kind::Counter => {
                matches!(
                    key,
                    "name" | "attribute" | "delta" | "began_earlier" | "unit"
                )
            }
            Kind::Distribution => matches!(key, "name" | "unit"),
        }
    }
}

/// `#[gauge(..)]`, `#[counter(..)]` or `#[distribution(..)]` on a field.
pub(crate) struct Metric {
    pub(crate) kind: Kind,
    /// The attribute's path (`gauge`), where "missing key" errors point.
    pub(crate) path_span: Span,
    pub(crate) name: Option<LitStr>,
    pub(crate) unit: Option<LitStr>,
    /// The span of the `unit` key, for "counters are unitless".
    pub(crate) unit_key: Option<Span>,
    /// `attribute = ".."`: one series per entry of a collection, labelled with this key.
    pub(crate) attribute: Option<LitStr>,
    /// `delta`: the counter field holds the increase since the last round, sent as it is.
    pub(crate) delta: Option<Span>,
    /// `began_earlier`: the counter field holds a running total that began before this process
    /// could see it; its first sample is recorded, not sent.
    pub(crate) began_earlier: Option<Span>,
}

impl Metric {
    /// Whether this is a counter field holding a running total, whose last value the derive
    /// keeps (in the `#[totals]` field) to send what it grew by.
    pub(crate) fn is_running_total(&self) -> bool {
        self.kind == Kind::Counter && self.delta.is_none()
    }
}

/// `#[flatten]` or `#[flatten(prefix = "..")]` on a field.
pub(crate) struct Flatten {
    /// The attribute's path (`flatten`), where errors about the whole field point.
    pub(crate) path_span: Span,
    pub(crate) prefix: Option<LitStr>,
}

/// What a field contributes.
pub(crate) enum Role {
    /// No metric attribute: state that the sample method may use.
    State,
    Metric(Metric),
    Flatten(Flatten),
    /// `#[attributes]`: a map of attributes added to every metric of the collector (e.g. which
    /// runtime, which pool), set per instance.
    Attributes(Span),
    /// `#[finished]`: a `bool` the sample method sets once the collector is done for good (what
    /// it reads is gone); the integration then removes it.
    Finished(Span),
    /// `#[totals]`: the `RunningTotals` where the derive keeps the last value of every counter
    /// field that holds a running total.
    Totals(Span),
}

/// Field attributes that take no arguments and mark a role.
const FLAG_ROLES: [&str; 3] = ["attributes", "finished", "totals"];

/// Reads `#[collector(..)]` from the struct's attributes, reporting misplaced field attributes.
pub(crate) fn container(cx: &Ctxt, attrs: &[Attribute]) -> Container {
    let mut container = Container::default();
    for attr in attrs {
        if let Some(kind) = metric_kind(attr) {
            cx.error_spanned_by(
                attr.path(),
                format!(
                    "#[{}] belongs on a field; on the struct, use #[collector(name = \"..\")]",
                    kind.attr_name()
                ),
            );
            continue;
        }
        if attr.path().is_ident("flatten")
            || FLAG_ROLES.iter().any(|flag| attr.path().is_ident(flag))
        {
            cx.error_spanned_by(attr.path(), "this attribute belongs on a field");
            continue;
        }
        if !attr.path().is_ident("collector") {
            continue;
        }
        let result = attr.parse_nested_meta(|meta| {
            let Some(key) = key_of(cx, &meta) else {
                return skip_value(&meta);
            };
            match key.as_str() {
                "name" => set_once(cx, &meta, &mut container.name),
                "sample" => set_once(cx, &meta, &mut container.sample),
                _ => {
                    cx.error_spanned_by(
                        &meta.path,
                        format!(
                            "unknown key `{key}` in #[collector(..)]; valid keys: {COLLECTOR_KEYS}"
                        ),
                    );
                    skip_value(&meta)
                }
            }
        });
        if let Err(err) = result {
            cx.syn_error(err);
        }
    }
    container
}

/// Reads the role of one field from its attributes.
pub(crate) fn field(cx: &Ctxt, attrs: &[Attribute]) -> Role {
    let mut role = Role::State;
    for attr in attrs {
        if attr.path().is_ident("collector") {
            cx.error_spanned_by(
                attr.path(),
                "#[collector(..)] belongs on the struct, not on a field",
            );
            continue;
        }
        let parsed = if let Some(kind) = metric_kind(attr) {
            Role::Metric(metric(cx, attr, kind))
        } else if attr.path().is_ident("flatten") {
            Role::Flatten(flatten(cx, attr))
        } else if let Some(flag) = FLAG_ROLES.iter().find(|flag| attr.path().is_ident(flag)) {
            if !matches!(attr.meta, syn::Meta::Path(_)) {
                cx.error_spanned_by(&attr.meta, format!("#[{flag}] takes no arguments"));
            }
            let span = attr.path().segments[0].ident.span();
            match *flag {
                "attributes" => Role::Attributes(span),
                "finished" => Role::Finished(span),
                _ => Role::Totals(span),
            }
        } else {
            continue;
        };
        if matches!(role, Role::State) {
            role = parsed;
        } else {
            cx.error_spanned_by(
                attr.path(),
                "a field can carry only one of #[gauge], #[counter], #[distribution], #[flatten], \
                 #[attributes], #[finished] or #[totals]",
            );
        }
    }
    role
}

fn metric_kind(attr: &Attribute) -> Option<Kind> {
    [Kind::Gauge, Kind::Counter, Kind::Distribution]
        .into_iter()
        .find(|kind| attr.path().is_ident(kind.attr_name()))
}

fn metric(cx: &Ctxt, attr: &Attribute, kind: Kind) -> Metric {
    let mut metric = Metric {
        kind,
        path_span: attr.path().segments[0].ident.span(),
        name: None,
        unit: None,
        unit_key: None,
        attribute: None,
        delta: None,
        began_earlier: None,
    };
    if let syn::Meta::Path(_) = attr.meta {
        // `#[gauge]` without arguments: only the name is missing, reported by `valid`.
        return metric;
    }
    let result = attr.parse_nested_meta(|meta| {
        let Some(key) = key_of(cx, &meta) else {
            return skip_value(&meta);
        };
        if !kind.accepts(&key) {
            cx.error_spanned_by(
                &meta.path,
                format!(
                    "unknown key `{key}` in #[{}(..)]; valid keys: {}",
                    kind.attr_name(),
                    kind.valid_keys()
                ),
            );
            return skip_value(&meta);
        }
        match key.as_str() {
            "name" => set_once(cx, &meta, &mut metric.name),
            "attribute" => set_once(cx, &meta, &mut metric.attribute),
            "unit" => {
                metric
                    .unit_key
                    .get_or_insert(meta.path.segments[0].ident.span());
                set_once(cx, &meta, &mut metric.unit)
            }
            flag => {
                // `delta` and `began_earlier` are flags: they take no value.
                let span = meta.path.segments[0].ident.span();
                if !(meta.input.is_empty() || meta.input.peek(Token![,])) {
                    cx.error_spanned_by(
                        &meta.path,
                        format!("`{flag}` is a flag: write `{flag}`, without a value"),
                    );
                    return skip_value(&meta);
                }
                let slot = if flag == "delta" {
                    &mut metric.delta
                } else {
                    &mut metric.began_earlier
                };
                if slot.replace(span).is_some() {
                    cx.error_at(span, format!("duplicate key `{flag}`"));
                }
                Ok(())
            }
        }
    });
    if let Err(err) = result {
        cx.syn_error(err);
    }
    metric
}

fn flatten(cx: &Ctxt, attr: &Attribute) -> Flatten {
    let mut flatten = Flatten {
        path_span: attr.path().segments[0].ident.span(),
        prefix: None,
    };
    if let syn::Meta::Path(_) = attr.meta {
        return flatten;
    }
    let result = attr.parse_nested_meta(|meta| {
        let Some(key) = key_of(cx, &meta) else {
            return skip_value(&meta);
        };
        if key == "prefix" {
            set_once(cx, &meta, &mut flatten.prefix)
        } else {
            cx.error_spanned_by(
                &meta.path,
                format!("unknown key `{key}` in #[flatten(..)]; valid keys: {FLATTEN_KEYS}"),
            );
            skip_value(&meta)
        }
    });
    if let Err(err) = result {
        cx.syn_error(err);
    }
    flatten
}
