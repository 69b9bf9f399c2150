//! The `#[derive(Message)]` macro of `experimance-common`.
//!
//! **Use it through the `experimance_common` crate** (`use experimance_common::Message;`),
//! never by depending on this crate directly: the generated code names
//! `::experimance_common::...` paths, and the two crates are released in lockstep.
//!
//! ```ignore
//! use experimance_common::Message;
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Debug, Serialize, Deserialize, Message)]
//! #[message(type = "IdleStatus", alias = "Idle")]
//! struct IdleStatus {
//!     idle: bool,
//!     #[serde(default)]
//!     since: Option<f64>,
//! }
//! ```
//!
//! The derive implements `experimance_common::Message` (its `TYPE` and `ALIASES`) and
//! registers the type, with a description of its fields, in the process-wide registry
//! (`experimance_common::registered_types()`).
//!
//! # Requirements
//!
//! * The type is a struct with named fields (a message is a JSON object); `struct Name {}`
//!   is fine, enums, unions, tuple structs and unit structs are rejected.
//! * The struct is not generic: the registry needs one concrete type per wire name.
//! * No field may appear on the wire as `"type"` (a field `r#type`, or one renamed to
//!   `"type"`): the tag is written and checked by the library itself.
//! * The struct still derives (or implements) `Serialize`, `Deserialize` and `Debug`;
//!   `Message` requires them.
//!
//! # Attributes
//!
//! All keys go in `#[message(...)]` on the struct; several keys may share one attribute
//! (`#[message(type = "X", alias = "Y")]`) or be split over several attributes.
//!
//! * `type = "WireName"`: the wire name written into the `"type"` member when encoding
//!   and required when decoding. At most once. Defaults to the struct's name.
//! * `alias = "OtherName"`: another wire name accepted when decoding (encoding always
//!   writes `type`). Repeatable; an alias may not repeat another alias or the type name.
//!
//! Wire names (type and aliases) must be non-empty printable ASCII without whitespace,
//! `"` or `\`: the runtime writes them into JSON and topic strings unescaped.
//!
//! # Field descriptions
//!
//! The registered `FieldInfo` of each field follows the field's serde attributes as far
//! as the wire is concerned:
//!
//! * the name honours `#[serde(rename = "x")]` (and the `serialize` name of
//!   `#[serde(rename(serialize = "x", deserialize = "y"))]`) and the struct's
//!   `#[serde(rename_all = "...")]`;
//! * fields with `#[serde(skip)]`, `#[serde(skip_serializing)]` or `#[serde(flatten)]`
//!   are left out (a flattened field's members are not described);
//! * `optional` is true for an `Option<_>` field (last path segment `Option`), a field
//!   with `#[serde(default)]` / `#[serde(default = "path")]`, or every field when the
//!   struct has `#[serde(default)]`;
//! * `rust_type` is the field's type as written, tidily stringified (`Option<String>`).
//!
//! Other serde attributes are ignored here (serde itself validates them).

use proc_macro::TokenStream;
use proc_macro2::{Delimiter, Span, TokenStream as TokenStream2, TokenTree};
use quote::{quote, quote_spanned, ToTokens};
use syn::ext::IdentExt;
use syn::meta::ParseNestedMeta;
use syn::{parse_macro_input, Attribute, Data, DeriveInput, Expr, ExprLit, Fields, Lit, LitStr, Token, Type};

/// Derives `experimance_common::Message` and registers the type in the process-wide
/// registry. Use it through `experimance_common` (`use experimance_common::Message;`).
///
/// Only non-generic structs with named fields (`struct Name {}` included) are accepted,
/// and no field may be named (or renamed to) `type`: the library writes that tag.
///
/// # Attributes (on the struct)
///
/// * `#[message(type = "WireName")]`: the `"type"` written on encode and required on
///   decode; at most once; defaults to the struct's name.
/// * `#[message(alias = "Other")]`: another name accepted on decode; repeatable.
///
/// Keys may share one attribute: `#[message(type = "IdleStatus", alias = "Idle")]`.
/// Names must be non-empty printable ASCII without whitespace, `"` or `\`.
///
/// The registered field descriptions follow `#[serde(rename)]`, `#[serde(rename_all)]`,
/// `#[serde(skip)]` / `skip_serializing` / `flatten` (left out) and `#[serde(default)]` or
/// an `Option<_>` type (optional).
#[proc_macro_derive(Message, attributes(message))]
pub fn derive_message(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match parse_and_validate(&input) {
        Ok(spec) => expand(&spec),
        Err(err) => err.to_compile_error(),
    }
    .into()
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

    fn finish<T>(self, ok: T) -> syn::Result<T> {
        match self.0 {
            Some(err) => Err(err),
            None => Ok(ok),
        }
    }
}

/// What the expansion needs, after validation.
struct Spec<'a> {
    ident: &'a syn::Ident,
    type_name: String,
    aliases: Vec<String>,
    fields: Vec<FieldSpec>,
}

struct FieldSpec {
    wire_name: String,
    rust_type: String,
    optional: bool,
}

const ONLY_NAMED: &str =
    "`#[derive(Message)]` supports only structs with named fields; a message is a JSON object";

fn parse_and_validate(input: &DeriveInput) -> syn::Result<Spec<'_>> {
    let mut errors = Errors::default();

    // Container attributes first (they come first in the source, too).
    let entries = parse_message_attrs(&input.attrs);
    let (type_name, aliases) = validate_message_attrs(entries, &input.ident, &mut errors);
    let container = parse_serde_container(&input.attrs);

    let named = match &input.data {
        Data::Enum(data) => {
            errors.spanned(data.enum_token, ONLY_NAMED);
            None
        }
        Data::Union(data) => {
            errors.spanned(data.union_token, ONLY_NAMED);
            None
        }
        Data::Struct(data) => match &data.fields {
            Fields::Named(named) => Some(named),
            Fields::Unnamed(fields) => {
                errors.spanned(
                    fields,
                    format_args!(
                        "{ONLY_NAMED}, but a tuple struct serializes as a JSON array or a bare value"
                    ),
                );
                None
            }
            Fields::Unit => {
                let ident = &input.ident;
                let struct_token = data.struct_token;
                errors.spanned(
                    quote!(#struct_token #ident),
                    format_args!(
                        "{ONLY_NAMED}, but a unit struct serializes as JSON null; \
                         write `struct {ident} {{}}` for a message without fields"
                    ),
                );
                None
            }
        },
    };

    if !input.generics.params.is_empty() {
        errors.spanned(
            &input.generics,
            "a registered message type cannot be generic: the registry needs one concrete type per wire name",
        );
    }

    let mut fields = Vec::new();
    if let Some(named) = named {
        for field in &named.named {
            for attr in field.attrs.iter().filter(|a| a.path().is_ident("message")) {
                errors.spanned(attr, "`#[message(...)]` belongs on the struct, not on a field");
            }
            let Some(ident) = &field.ident else { continue };
            let serde = parse_serde_field(&field.attrs);
            if serde.skip || serde.flatten {
                continue;
            }
            let wire_name = match &serde.rename {
                Some(lit) => lit.value(),
                None => container
                    .rename_all
                    .map_or_else(|| ident.unraw().to_string(), |rule| rule.apply(&ident.unraw().to_string())),
            };
            if wire_name == "type" {
                match &serde.rename {
                    Some(lit) => errors.spanned(
                        lit,
                        "the `\"type\"` tag is written by #[derive(Message)]; rename or remove this field",
                    ),
                    None => errors.spanned(
                        ident,
                        "the `\"type\"` tag is written by #[derive(Message)]; remove this field",
                    ),
                }
            }
            fields.push(FieldSpec {
                wire_name,
                rust_type: tidy_type(&field.ty),
                optional: container.default || serde.default || is_option(&field.ty),
            });
        }
    }

    errors.finish(Spec { ident: &input.ident, type_name, aliases, fields })
}

/// One key of `#[message(...)]`, or a problem found while parsing, in source order.
enum Entry {
    /// `type = "..."`; `None` when the value was missing or not a string literal (already
    /// reported).
    Type(syn::Path, Option<LitStr>),
    /// `alias = "..."`.
    Alias(LitStr),
    Error(syn::Error),
}

/// Parses every `#[message(...)]` attribute, going on after errors so that all of them
/// are reported.
fn parse_message_attrs(attrs: &[Attribute]) -> Vec<Entry> {
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

/// Checks the keys in source order; returns the type name and the aliases.
fn validate_message_attrs(
    entries: Vec<Entry>,
    ident: &syn::Ident,
    errors: &mut Errors,
) -> (String, Vec<String>) {
    // The name aliases are compared with; `None` when the given one is itself invalid.
    let first_type = entries.iter().find_map(|e| match e {
        Entry::Type(_, lit) => Some(lit),
        _ => None,
    });
    let type_name = match first_type {
        None => Some(ident.unraw().to_string()),
        Some(Some(lit)) if wire_name_problem(&lit.value()).is_none() => Some(lit.value()),
        Some(_) => None,
    };

    let mut type_seen = false;
    let mut aliases: Vec<String> = Vec::new();
    for entry in entries {
        match entry {
            Entry::Error(err) => errors.push(err),
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
                    check_wire_name(&lit, "the message type name", errors);
                }
            }
            Entry::Alias(lit) => {
                if !check_wire_name(&lit, "an alias", errors) {
                    continue;
                }
                let alias = lit.value();
                if type_name.as_ref() == Some(&alias) {
                    errors.spanned(
                        &lit,
                        format_args!("the alias \"{alias}\" is the message's type name itself; remove it"),
                    );
                } else if aliases.contains(&alias) {
                    errors.spanned(&lit, format_args!("duplicate alias \"{alias}\""));
                } else {
                    aliases.push(alias);
                }
            }
        }
    }
    (type_name.unwrap_or_default(), aliases)
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
struct SerdeContainer {
    default: bool,
    rename_all: Option<RenameRule>,
}

/// The field-level serde attributes that matter to the field descriptions.
#[derive(Default)]
struct SerdeField {
    rename: Option<LitStr>,
    skip: bool,
    flatten: bool,
    default: bool,
}

/// Serde's own derive validates its attributes, so anything not understood here is
/// skipped silently (a parse error just ends the scan of that attribute).
fn parse_serde_container(attrs: &[Attribute]) -> SerdeContainer {
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

fn parse_serde_field(attrs: &[Attribute]) -> SerdeField {
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
enum RenameRule {
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

    fn apply(self, field: &str) -> String {
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

/// Whether the type's last path segment is `Option` (`Option<T>`, `std::option::Option<T>`).
fn is_option(ty: &Type) -> bool {
    match ty {
        Type::Path(path) => path.path.segments.last().is_some_and(|s| s.ident == "Option"),
        Type::Group(group) => is_option(&group.elem),
        Type::Paren(paren) => is_option(&paren.elem),
        _ => false,
    }
}

/// The type as written, without the spaces token printing puts everywhere:
/// `Option<Vec<u8>>`, `&'static str`, `std::collections::HashMap<String, f64>`, `[u8; 4]`.
fn tidy_type(ty: &Type) -> String {
    let mut out = String::new();
    tidy_tokens(ty.to_token_stream(), &mut out);
    out
}

/// Token classes for spacing decisions.
#[derive(PartialEq, Clone, Copy)]
enum Prev {
    Start,
    Word,
    /// An operator after which no space goes: `<`, `::`, `&`, `*`, `'`.
    Tight,
    /// Any other operator (`+`, `->`, `=`, `,`, `;`...): a space follows.
    Spaced,
    Group,
}

fn tidy_tokens(tokens: TokenStream2, out: &mut String) {
    let mut prev = Prev::Start;
    let mut op = String::new();
    let mut iter = tokens.into_iter().peekable();
    while let Some(tt) = iter.next() {
        match tt {
            TokenTree::Punct(p) => {
                op.push(p.as_char());
                let joint = p.spacing() == proc_macro2::Spacing::Joint
                    && matches!(iter.peek(), Some(TokenTree::Punct(_)))
                    && p.as_char() != '\'';
                if joint {
                    continue;
                }
                let tight_before = matches!(op.as_str(), "<" | ">" | ">>" | "::" | "," | ";");
                if prev != Prev::Start && prev != Prev::Tight && !tight_before {
                    out.push(' ');
                }
                out.push_str(&op);
                prev = if matches!(op.as_str(), "<" | "::" | "&" | "&&" | "*" | "'") {
                    Prev::Tight
                } else if matches!(op.as_str(), ">" | ">>") {
                    Prev::Word
                } else {
                    Prev::Spaced
                };
                op.clear();
            }
            TokenTree::Group(g) => {
                let (open, close) = match g.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::Brace => ("{", "}"),
                    Delimiter::None => ("", ""),
                };
                // `Fn(u8)`, `fn(u8)`: no space between a word and its parentheses.
                let glued = prev == Prev::Word && g.delimiter() == Delimiter::Parenthesis;
                if matches!(prev, Prev::Word | Prev::Spaced | Prev::Group) && !glued {
                    out.push(' ');
                }
                out.push_str(open);
                tidy_tokens(g.stream(), out);
                out.push_str(close);
                prev = Prev::Group;
            }
            TokenTree::Ident(_) | TokenTree::Literal(_) => {
                if matches!(prev, Prev::Word | Prev::Spaced | Prev::Group) {
                    out.push(' ');
                }
                out.push_str(&tt.to_string());
                prev = Prev::Word;
            }
        }
    }
}

fn expand(spec: &Spec<'_>) -> TokenStream2 {
    let ident = spec.ident;
    let rust_name = LitStr::new(&ident.unraw().to_string(), Span::call_site());
    let type_name = &spec.type_name;
    let aliases = &spec.aliases;
    let fields = spec.fields.iter().map(|f| {
        let FieldSpec { wire_name, rust_type, optional } = f;
        quote! {
            ::experimance_common::FieldInfo {
                name: #wire_name,
                rust_type: #rust_type,
                optional: #optional,
            }
        }
    });
    // The impl's `for` type carries the struct's span, so a missing supertrait
    // (`Serialize`, `Debug`...) is reported at the struct's name.
    let self_ty = quote_spanned!(ident.span()=> #ident);

    // `inventory::submit!` expands to items only (a `static` node plus a `#[used]`
    // link-section constructor, itself wrapped in its own `const _: () = { ... };`), so it
    // is valid inside our anonymous const block: items nested in a block are still emitted
    // and linked, and registration happens at load time, not when the block is
    // "evaluated". The only requirement is that the value be a constant expression, which
    // `MessageInfo::__new` (a `const fn`) and the literals below are; the struct is never
    // generic, so the nested items may name it. The `__private` re-export spares the
    // user's crate a direct dependency on `inventory`.
    quote! {
        const _: () = {
            #[automatically_derived]
            impl ::experimance_common::Message for #self_ty {
                const TYPE: &'static str = #type_name;
                const ALIASES: &'static [&'static str] = &[#(#aliases),*];
            }

            ::experimance_common::__private::inventory::submit! {
                ::experimance_common::MessageInfo::__new::<#ident>(
                    ::core::concat!(::core::module_path!(), "::", #rust_name),
                    &[#(#fields),*],
                )
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tidy(src: &str) -> String {
        tidy_type(&syn::parse_str::<Type>(src).unwrap())
    }

    #[test]
    fn tidies_types() {
        for (src, want) in [
            ("Option < String >", "Option<String>"),
            ("Vec<Option<Vec<u8>>>", "Vec<Option<Vec<u8>>>"),
            ("& 'static str", "&'static str"),
            ("std :: collections :: HashMap < String , f64 >", "std::collections::HashMap<String, f64>"),
            ("::std::string::String", "::std::string::String"),
            ("[u8 ; 4]", "[u8; 4]"),
            ("(u8 , String)", "(u8, String)"),
            ("()", "()"),
            ("Box<dyn Fn(u8) -> u8 + Send>", "Box<dyn Fn(u8) -> u8 + Send>"),
            ("&mut [u8]", "&mut [u8]"),
            ("*const u8", "*const u8"),
            ("<T as Trait>::Assoc", "<T as Trait>::Assoc"),
            ("Option<(u8, [f32; 3])>", "Option<(u8, [f32; 3])>"),
            ("fn(u8) -> Vec<u8>", "fn(u8) -> Vec<u8>"),
            ("impl Iterator<Item = u8>", "impl Iterator<Item = u8>"),
        ] {
            assert_eq!(tidy(src), want, "{src}");
        }
    }

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

    #[test]
    fn options() {
        assert!(is_option(&syn::parse_str("Option<u8>").unwrap()));
        assert!(is_option(&syn::parse_str("std::option::Option<u8>").unwrap()));
        assert!(!is_option(&syn::parse_str("Vec<Option<u8>>").unwrap()));
    }
}
