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
    /// Whether the wire name differs from the field's own (a rename or a rename rule).
    pub renamed: bool,
    /// The keys decoding reads the field from, sorted (none for `skip_deserializing`).
    pub decode_names: Vec<String>,
    /// Not written as a key of its own (`skip`, `skip_serializing`, `flatten`).
    pub skipped: bool,
    /// May be absent when decoding: a serde default fills it in, or it is an `Option<_>`
    /// read without `deserialize_with` (serde then takes a missing one for `None`).
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
                Fields::Named(_) => {
                    Shape::Named(attr::serde_fields(node).into_iter().map(Field::from_serde).collect())
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

impl<'a> Field<'a> {
    fn from_serde(serde: attr::SerdeField<'a>) -> Self {
        let field = serde.original;
        let own_name = field.ident.as_ref().map(|ident| ident.unraw().to_string());
        Field {
            message_attrs: field.attrs.iter().filter(|a| a.path().is_ident("message")).collect(),
            renamed: own_name.as_ref() != Some(&serde.ser_name),
            wire_name: serde.ser_name,
            wire_span: serde.ser_span,
            decode_names: serde.de_names,
            skipped: serde.not_written,
            optional: serde.defaulted || (is_option(&field.ty) && !serde.deserialize_with),
            rust_type: tidy_type(&field.ty),
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
