//! Checking the input: every problem is reported, together, at the offending token.

use quote::{quote, ToTokens};
use syn::ext::IdentExt;
use syn::LitStr;

use crate::ast::{Input, Shape};
use crate::attr::Entry;

const ONLY_NAMED: &str =
    "`#[derive(Message)]` supports only structs with named fields; a message is a JSON object";

impl Input<'_> {
    /// Checks everything; the errors come in source order.
    pub(crate) fn validate(&self) -> syn::Result<()> {
        let mut errors = Errors::default();
        // Container attributes first (they come first in the source, too).
        let _aliases = self.validate_message_attrs(&mut errors);

        match &self.shape {
            Shape::Named(_) => {}
            Shape::Enum(token) => errors.spanned(token, ONLY_NAMED),
            Shape::Union(token) => errors.spanned(token, ONLY_NAMED),
            Shape::Tuple(fields) => errors.spanned(
                fields,
                format_args!("{ONLY_NAMED}, but a tuple struct serializes as a JSON array or a bare value"),
            ),
            Shape::Unit(struct_token) => {
                let ident = self.ident;
                errors.spanned(
                    quote!(#struct_token #ident),
                    format_args!(
                        "{ONLY_NAMED}, but a unit struct serializes as JSON null; \
                         write `struct {ident} {{}}` for a message without fields"
                    ),
                );
            }
        }

        if !self.generics.params.is_empty() {
            errors.spanned(
                self.generics,
                "a registered message type cannot be generic: the registry needs one concrete type per wire name",
            );
        }

        if let Shape::Named(fields) = &self.shape {
            for field in fields {
                for attr in &field.message_attrs {
                    errors.spanned(attr, "`#[message(...)]` belongs on the struct, not on a field");
                }
                if field.skipped || field.wire_name != "type" {
                    continue;
                }
                let advice = if field.renamed { "rename or remove this field" } else { "remove this field" };
                errors.push(syn::Error::new(
                    field.wire_span,
                    format_args!("the `\"type\"` tag is written by #[derive(Message)]; {advice}"),
                ));
            }
        }

        errors.finish()
    }

    /// The wire name: the first `type` key's, or the struct's name when there is none;
    /// `None` when the first `type` key has no valid name (that is reported).
    pub(crate) fn type_name(&self) -> Option<String> {
        let first_type = self.entries.iter().find_map(|e| match e {
            Entry::Type(_, lit) => Some(lit),
            _ => None,
        });
        match first_type {
            None => Some(self.ident.unraw().to_string()),
            Some(Some(lit)) if wire_name_problem(&lit.value()).is_none() => Some(lit.value()),
            Some(_) => None,
        }
    }

    /// The valid aliases, in order, without repeats or the type name itself.
    pub(crate) fn aliases(&self) -> Vec<String> {
        self.validate_message_attrs(&mut Errors::default())
    }

    /// Checks the `#[message(...)]` keys in source order; returns the valid aliases.
    fn validate_message_attrs(&self, errors: &mut Errors) -> Vec<String> {
        // The name aliases are compared with; `None` when the given one is itself invalid.
        let type_name = self.type_name();
        let mut type_seen = false;
        let mut aliases: Vec<String> = Vec::new();
        for entry in &self.entries {
            match entry {
                Entry::Error(err) => errors.push(err.clone()),
                Entry::Type(path, lit) => {
                    if type_seen {
                        errors.spanned(
                            path,
                            "duplicate `type` key: a message has one type name \
                             (use `alias = \"...\"` for other accepted names)",
                        );
                    }
                    type_seen = true;
                    if let Some(lit) = lit {
                        check_wire_name(lit, "the message type name", errors);
                    }
                }
                Entry::Alias(lit) => {
                    if !check_wire_name(lit, "an alias", errors) {
                        continue;
                    }
                    let alias = lit.value();
                    if type_name.as_ref() == Some(&alias) {
                        errors.spanned(
                            lit,
                            format_args!(
                                "the alias \"{alias}\" is the message's type name itself; remove it"
                            ),
                        );
                    } else if aliases.contains(&alias) {
                        errors.spanned(lit, format_args!("duplicate alias \"{alias}\""));
                    } else {
                        aliases.push(alias);
                    }
                }
            }
        }
        aliases
    }
}

/// Every error found, reported together.
#[derive(Default)]
struct Errors(Option<syn::Error>);

impl Errors {
    fn push(&mut self, err: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(err),
            None => self.0 = Some(err),
        }
    }

    fn spanned<T: ToTokens>(&mut self, tokens: T, msg: impl std::fmt::Display) {
        self.push(syn::Error::new_spanned(tokens, msg));
    }

    fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}

/// Checks a type name or alias; reports its problem (if any) at the literal.
fn check_wire_name(lit: &LitStr, subject: &str, errors: &mut Errors) -> bool {
    match wire_name_problem(&lit.value()) {
        None => true,
        Some(problem) => {
            errors.spanned(lit, format_args!("{subject} {problem}"));
            false
        }
    }
}

/// What is wrong with a wire name (type name or alias), if anything.
fn wire_name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("must not be empty".to_owned());
    }
    if name.chars().any(char::is_whitespace) {
        return Some("must not contain whitespace: it is used as the topic/type name on the wire".to_owned());
    }
    let bad = name.chars().find(|&c| !c.is_ascii_graphic() || c == '"' || c == '\\')?;
    let shown = if bad.is_ascii_graphic() {
        format!("`{bad}`")
    } else if bad.is_control() {
        format!("the control character U+{:04X}", u32::from(bad))
    } else {
        format!("`{bad}` (U+{:04X})", u32::from(bad))
    };
    Some(format!(
        "may contain only printable ASCII characters other than `\"` and `\\` \
         (the runtime writes it into JSON unescaped), but it contains {shown}"
    ))
}
