//! `FieldInfo::rust_type`: a type printed as a person writes it.

use proc_macro2::{Delimiter, TokenStream as TokenStream2, TokenTree};
use quote::ToTokens;
use syn::Type;

/// The type as written, without the spaces token printing puts everywhere:
/// `Option<Vec<u8>>`, `&'static str`, `std::collections::HashMap<String, f64>`, `[u8; 4]`.
pub(crate) fn tidy_type(ty: &Type) -> String {
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
}
