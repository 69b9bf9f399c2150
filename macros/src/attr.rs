//! Reading the attributes: the keys of `#[message(...)]`, and the serde attributes that
//! decide how a field appears on the wire.

use syn::ext::IdentExt;
use syn::meta::ParseNestedMeta;
use syn::{Attribute, Expr, ExprLit, Lit, LitStr, Token};

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

/// The struct-level serde attributes that matter to the field descriptions.
#[derive(Default)]
pub(crate) struct SerdeContainer {
    pub default: bool,
    pub rename_all: Option<RenameRule>,
}

/// The field-level serde attributes that matter to the field descriptions.
#[derive(Default)]
pub(crate) struct SerdeField {
    pub rename: Option<LitStr>,
    pub skip: bool,
    pub flatten: bool,
    pub default: bool,
}

/// Serde's own derive validates its attributes, so anything not understood here is
/// skipped silently (a parse error just ends the scan of that attribute).
pub(crate) fn parse_serde_container(attrs: &[Attribute]) -> SerdeContainer {
    let mut out = SerdeContainer::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("default") {
                out.default = true;
                skip_value(&meta)
            } else if meta.path.is_ident("rename_all") {
                if let Some(lit) = string_or_serialize(&meta)? {
                    out.rename_all = RenameRule::from_str(&lit.value());
                }
                Ok(())
            } else {
                skip_value(&meta)
            }
        });
    }
    out
}

pub(crate) fn parse_serde_field(attrs: &[Attribute]) -> SerdeField {
    let mut out = SerdeField::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                if let Some(lit) = string_or_serialize(&meta)? {
                    out.rename = Some(lit);
                }
                Ok(())
            } else {
                if meta.path.is_ident("skip") || meta.path.is_ident("skip_serializing") {
                    out.skip = true;
                } else if meta.path.is_ident("flatten") {
                    out.flatten = true;
                } else if meta.path.is_ident("default") {
                    out.default = true;
                }
                skip_value(&meta)
            }
        });
    }
    out
}

/// `key = "x"` gives `x`; `key(serialize = "x", deserialize = "y")` gives `x` (the name
/// written on the wire); anything else gives `None`.
fn string_or_serialize(meta: &ParseNestedMeta<'_>) -> syn::Result<Option<LitStr>> {
    if meta.input.peek(Token![=]) {
        return match meta.value()?.parse::<Expr>()? {
            Expr::Lit(ExprLit { lit: Lit::Str(lit), .. }) => Ok(Some(lit)),
            _ => Ok(None),
        };
    }
    let mut found = None;
    if meta.input.peek(syn::token::Paren) {
        meta.parse_nested_meta(|inner| {
            if inner.path.is_ident("serialize") {
                if let Expr::Lit(ExprLit { lit: Lit::Str(lit), .. }) = inner.value()?.parse::<Expr>()? {
                    found = Some(lit);
                }
                Ok(())
            } else {
                skip_value(&inner)
            }
        })?;
    }
    Ok(found)
}

/// Serde's `rename_all` rules, as applied to (snake_case) field names.
#[derive(Clone, Copy)]
pub(crate) enum RenameRule {
    Lower,
    Upper,
    Pascal,
    Camel,
    Snake,
    ScreamingSnake,
    Kebab,
    ScreamingKebab,
}

impl RenameRule {
    fn from_str(rule: &str) -> Option<Self> {
        Some(match rule {
            "lowercase" => Self::Lower,
            "UPPERCASE" => Self::Upper,
            "PascalCase" => Self::Pascal,
            "camelCase" => Self::Camel,
            "snake_case" => Self::Snake,
            "SCREAMING_SNAKE_CASE" => Self::ScreamingSnake,
            "kebab-case" => Self::Kebab,
            "SCREAMING-KEBAB-CASE" => Self::ScreamingKebab,
            _ => return None,
        })
    }

    pub(crate) fn apply(self, field: &str) -> String {
        match self {
            Self::Lower | Self::Snake => field.to_owned(),
            Self::Upper | Self::ScreamingSnake => field.to_ascii_uppercase(),
            Self::Pascal => {
                let mut out = String::with_capacity(field.len());
                let mut capitalize = true;
                for c in field.chars() {
                    if c == '_' {
                        capitalize = true;
                    } else if capitalize {
                        out.push(c.to_ascii_uppercase());
                        capitalize = false;
                    } else {
                        out.push(c);
                    }
                }
                out
            }
            Self::Camel => {
                let pascal = Self::Pascal.apply(field);
                let mut chars = pascal.chars();
                match chars.next() {
                    Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
                    None => pascal,
                }
            }
            Self::Kebab => field.replace('_', "-"),
            Self::ScreamingKebab => field.replace('_', "-").to_ascii_uppercase(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rename_rules() {
        let f = "door_open_count";
        for (rule, want) in [
            ("lowercase", "door_open_count"),
            ("UPPERCASE", "DOOR_OPEN_COUNT"),
            ("PascalCase", "DoorOpenCount"),
            ("camelCase", "doorOpenCount"),
            ("snake_case", "door_open_count"),
            ("SCREAMING_SNAKE_CASE", "DOOR_OPEN_COUNT"),
            ("kebab-case", "door-open-count"),
            ("SCREAMING-KEBAB-CASE", "DOOR-OPEN-COUNT"),
        ] {
            assert_eq!(RenameRule::from_str(rule).unwrap().apply(f), want, "{rule}");
        }
    }
}
