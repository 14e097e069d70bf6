//! A small model of the derive input: the struct, its container attributes and, per field, the
//! role it plays. Built once, then checked by `valid` and turned into code by `expand`.

use syn::{Data, DeriveInput, Fields, Generics, Ident, Type};

use crate::attr::{self, Container, Role};
use crate::ctxt::Ctxt;

/// The struct being derived.
pub(crate) struct Input<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) generics: &'a Generics,
    pub(crate) container: Container,
    pub(crate) fields: Vec<Field<'a>>,
}

/// One named field.
pub(crate) struct Field<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) ty: &'a Type,
    pub(crate) role: Role,
    /// The doc comment, joined into one line; it becomes the metric's description.
    pub(crate) doc: String,
}

impl<'a> Input<'a> {
    /// Reads the input, recording problems in `cx`. Returns `None` when the input is not a
    /// struct with named fields, the only shape a collector can have.
    pub(crate) fn from_syn(cx: &Ctxt, input: &'a DeriveInput) -> Option<Self> {
        let container = attr::container(cx, &input.attrs);
        let named = match &input.data {
            Data::Struct(data) => match &data.fields {
                Fields::Named(named) => named,
                Fields::Unnamed(fields) => {
                    cx.error_spanned_by(
                        fields,
                        "derive(MetricCollector) needs named fields, each metric is a field \
                         with #[gauge(..)], #[counter(..)] or #[distribution(..)]; \
                         write `struct Name { field: Type }`",
                    );
                    return None;
                }
                Fields::Unit => {
                    cx.error_spanned_by(
                        &input.ident,
                        "derive(MetricCollector) needs a struct with named fields; a unit struct \
                         has no metrics to send",
                    );
                    return None;
                }
            },
            Data::Enum(data) => {
                cx.error_spanned_by(
                    data.enum_token,
                    "derive(MetricCollector) supports structs with named fields, not enums; \
                     implement `MetricCollector` by hand for an enum",
                );
                return None;
            }
            Data::Union(data) => {
                cx.error_spanned_by(
                    data.union_token,
                    "derive(MetricCollector) supports structs with named fields, not unions",
                );
                return None;
            }
        };
        let fields = named
            .named
            .iter()
            .filter_map(|field| {
                Some(Field {
                    ident: field.ident.as_ref()?,
                    ty: &field.ty,
                    role: attr::field(cx, &field.attrs),
                    doc: doc_comment(&field.attrs),
                })
            })
            .collect();
        Some(Input {
            ident: &input.ident,
            generics: &input.generics,
            container,
            fields,
        })
    }
}

/// Joins `///` lines into one line of text (blank lines end the first paragraph).
fn doc_comment(attrs: &[syn::Attribute]) -> String {
    let mut lines = Vec::new();
    for attr in attrs {
        let syn::Meta::NameValue(nv) = &attr.meta else {
            continue;
        };
        if !nv.path.is_ident("doc") {
            continue;
        }
        let syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(text),
            ..
        }) = &nv.value
        else {
            continue;
        };
        let text = text.value();
        let text = text.trim();
        if text.is_empty() {
            if !lines.is_empty() {
                break;
            }
            continue;
        }
        lines.push(text.to_owned());
    }
    lines.join(" ")
}
