//! The input of `#[derive(Message)]` as written: its shape, its `#[message(...)]` keys and
//! its fields as serde puts them on the wire. Nothing here is checked yet (that is
//! `valid.rs`); parse problems are kept, in source order, to be reported with the rest.

use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::{Attribute, Data, DeriveInput, Fields, FieldsUnnamed, Generics, Ident, Token, Type};

use crate::attr::{self, Entry};
use crate::tidy::tidy_type;

pub(crate) struct Input<'a> {
    pub ident: &'a Ident,
    pub generics: &'a Generics,
    /// The keys of every `#[message(...)]` attribute, with their parse errors, in order.
    pub entries: Vec<Entry>,
    pub shape: Shape<'a>,
}

/// What kind of item the derive is on; only `Named` is a message.
pub(crate) enum Shape<'a> {
    Named(Vec<Field<'a>>),
    Tuple(&'a FieldsUnnamed),
    Unit(Token![struct]),
    Enum(Token![enum]),
    Union(Token![union]),
}

pub(crate) struct Field<'a> {
    /// `#[message(...)]` attributes on the field (they belong on the struct).
    pub message_attrs: Vec<&'a Attribute>,
    /// The key serde writes for the field.
    pub wire_name: String,
    /// Where the wire name comes from: the rename's literal, or the field's name.
    pub wire_span: Span,
    /// Whether the wire name was given explicitly (`#[serde(rename = "...")]`).
    pub renamed: bool,
    /// Not written as a key of its own (`skip`, `skip_serializing`, `flatten`).
    pub skipped: bool,
    /// May be absent when decoding (an `Option<_>`, or a serde default).
    pub optional: bool,
    /// The type as written.
    pub rust_type: String,
}

impl<'a> Input<'a> {
    pub(crate) fn from_syn(node: &'a DeriveInput) -> Self {
        let shape = match &node.data {
            Data::Enum(data) => Shape::Enum(data.enum_token),
            Data::Union(data) => Shape::Union(data.union_token),
            Data::Struct(data) => match &data.fields {
                Fields::Unnamed(fields) => Shape::Tuple(fields),
                Fields::Unit => Shape::Unit(data.struct_token),
                Fields::Named(named) => {
                    let container = attr::parse_serde_container(&node.attrs);
                    let fields = named.named.iter().filter_map(|field| {
                        let ident = field.ident.as_ref()?;
                        let serde = attr::parse_serde_field(&field.attrs);
                        let (wire_name, wire_span) = match &serde.rename {
                            Some(lit) => (lit.value(), lit.span()),
                            None => {
                                let name = ident.unraw().to_string();
                                let name =
                                    container.rename_all.map_or(name.clone(), |rule| rule.apply(&name));
                                (name, ident.span())
                            }
                        };
                        Some(Field {
                            message_attrs: field
                                .attrs
                                .iter()
                                .filter(|a| a.path().is_ident("message"))
                                .collect(),
                            wire_name,
                            wire_span,
                            renamed: serde.rename.is_some(),
                            skipped: serde.skip || serde.flatten,
                            optional: container.default || serde.default || is_option(&field.ty),
                            rust_type: tidy_type(&field.ty),
                        })
                    });
                    Shape::Named(fields.collect())
                }
            },
        };
        Input {
            ident: &node.ident,
            generics: &node.generics,
            entries: attr::parse_message_attrs(&node.attrs),
            shape,
        }
    }
}

/// Whether the type's last path segment is `Option` (`Option<T>`, `std::option::Option<T>`).
fn is_option(ty: &Type) -> bool {
    match ty {
        Type::Path(path) => path.path.segments.last().is_some_and(|s| s.ident == "Option"),
        Type::Group(group) => is_option(&group.elem),
        Type::Paren(paren) => is_option(&paren.elem),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options() {
        assert!(is_option(&syn::parse_str("Option<u8>").unwrap()));
        assert!(is_option(&syn::parse_str("std::option::Option<u8>").unwrap()));
        assert!(!is_option(&syn::parse_str("Vec<Option<u8>>").unwrap()));
    }
}
