//! Reading the attributes: the keys of `#[message(...)]`, and the serde attributes that
//! decide how a field appears on the wire.
//!
//! The serde attributes are read by `serde_derive_internals`, serde_derive's own parser,
//! rather than by hand: a field's key, the `rename_all` rules, `skip*`, `flatten`,
//! `default` and `alias` then mean here exactly what they mean to serde.

use proc_macro2::{Ident, Span};
use serde_derive_internals::{ast, Ctxt, Derive};
use syn::ext::IdentExt;
use syn::meta::ParseNestedMeta;
use syn::{Attribute, DeriveInput, Expr, ExprLit, Lit, LitStr, Token};

/// One key of `#[message(...)]`, or a problem found while parsing, in source order.
pub(crate) enum Entry {
    /// `type = "..."`; `None` when the value was missing or not a string literal (already
    /// reported).
    Type(syn::Path, Option<LitStr>),
    /// `alias = "..."`.
    Alias(LitStr),
    Error(syn::Error),
}

/// Parses every `#[message(...)]` attribute, going on after errors so that all of them
/// are reported.
pub(crate) fn parse_message_attrs(attrs: &[Attribute]) -> Vec<Entry> {
    let mut entries = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("message")) {
        let result = attr.parse_nested_meta(|meta| {
            let is_type = meta.path.is_ident("type");
            if !is_type && !meta.path.is_ident("alias") {
                entries.push(Entry::Error(syn::Error::new_spanned(
                    &meta.path,
                    format_args!(
                        "unknown `#[message]` key `{}`; the known keys are `type` and `alias`",
                        path_string(&meta.path)
                    ),
                )));
                return skip_value(&meta);
            }
            let (key, example) = if is_type { ("type", "DoorOpened") } else { ("alias", "Door") };
            let lit = if meta.input.peek(Token![=]) {
                match meta.value()?.parse::<Expr>()? {
                    Expr::Lit(ExprLit { lit: Lit::Str(lit), .. }) => Some(lit),
                    other => {
                        entries.push(Entry::Error(syn::Error::new_spanned(
                            other,
                            format_args!("expected a string literal, as in `{key} = \"{example}\"`"),
                        )));
                        None
                    }
                }
            } else {
                entries.push(Entry::Error(syn::Error::new_spanned(
                    &meta.path,
                    format_args!("expected `{key} = \"...\"`: the `{key}` key takes a string literal"),
                )));
                skip_value(&meta)?;
                None
            };
            match lit {
                _ if is_type => entries.push(Entry::Type(meta.path.clone(), lit)),
                Some(lit) => entries.push(Entry::Alias(lit)),
                None => {}
            }
            Ok(())
        });
        if let Err(err) = result {
            entries.push(Entry::Error(err));
        }
    }
    entries
}

/// Consumes whatever follows an unwanted key (`= value` or `(...)`), so parsing goes on.
fn skip_value(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        meta.value()?.parse::<Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        meta.input.parse::<proc_macro2::Group>()?;
    }
    Ok(())
}

fn path_string(path: &syn::Path) -> String {
    path.segments.iter().map(|s| s.ident.unraw().to_string()).collect::<Vec<_>>().join("::")
}

/// A field of a struct with named fields, as serde sees it.
pub(crate) struct SerdeField<'a> {
    pub original: &'a syn::Field,
    /// The key serde writes.
    pub ser_name: String,
    /// Where `ser_name` comes from: the rename's literal, or the field's name.
    pub ser_span: Span,
    /// The keys serde reads the field from (the deserialize name and the aliases), sorted;
    /// empty when it never reads it (`skip_deserializing`).
    pub de_names: Vec<String>,
    /// Not written as a key of its own: `skip`, `skip_serializing` or `flatten`.
    pub not_written: bool,
    /// A default fills it in when it is absent: the field's or the struct's
    /// `#[serde(default)]`, or `skip_deserializing`.
    pub defaulted: bool,
    /// Read through `deserialize_with` (or `with`), so even an `Option` must be present.
    pub deserialize_with: bool,
}

/// The named fields of a struct as serde reads them, in declaration order.
///
/// Errors in the serde attributes are dropped: serde's own derive reports them, and a
/// second report here would only repeat them.
pub(crate) fn serde_fields(node: &DeriveInput) -> Vec<SerdeField<'_>> {
    let cx = Ctxt::new();
    // Only used by serde in paths it generates for `#[serde(borrow)]`; never emitted here.
    let private = Ident::new("__private", Span::call_site());
    let fields = match ast::Container::from_ast(&cx, node, Derive::Deserialize, &private) {
        Some(container) => {
            let container_default = !container.attrs.default().is_none();
            match container.data {
                ast::Data::Struct(ast::Style::Struct, fields) => fields
                    .into_iter()
                    .map(|field| {
                        let attrs = &field.attrs;
                        let ser_name = attrs.name().serialize_name();
                        let de_names = if attrs.skip_deserializing() {
                            Vec::new()
                        } else {
                            attrs.aliases().iter().map(|name| name.value.clone()).collect()
                        };
                        SerdeField {
                            original: field.original,
                            ser_name: ser_name.value.clone(),
                            ser_span: ser_name.span,
                            de_names,
                            not_written: attrs.skip_serializing() || attrs.flatten(),
                            defaulted: container_default || !attrs.default().is_none(),
                            deserialize_with: attrs.deserialize_with().is_some(),
                        }
                    })
                    .collect(),
                _ => Vec::new(),
            }
        }
        None => Vec::new(),
    };
    let _ = cx.check();
    fields
}
