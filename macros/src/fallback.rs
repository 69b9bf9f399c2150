//! The expansion of an input that failed validation, as thiserror's `fallback.rs` does for
//! `Error`: the errors, and beside them a minimal `impl Message`, so that the type's uses
//! compile and a typo in `#[message(...)]` is one error rather than one at every use.
//! Nothing is registered: the crate does not build anyway.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::ext::IdentExt;

use crate::ast::Input;

pub(crate) fn expand(input: &Input<'_>, error: &syn::Error) -> TokenStream {
    let error = error.to_compile_error();
    let ident = input.ident;
    // The given name when it is valid, else the struct's own (a placeholder: never used).
    let type_name = input.type_name().unwrap_or_else(|| ident.unraw().to_string());
    let self_ty = quote_spanned!(ident.span()=> #ident);

    // A generic type (rejected) gets the supertraits as bounds of the impl, so uses with
    // parameters that satisfy them compile; a non-generic type must implement them
    // itself, as with the real expansion (a false bound on it would be an error too).
    let mut generics = input.generics.clone();
    if !generics.params.is_empty() {
        generics.make_where_clause().predicates.push(syn::parse_quote! {
            Self: ::experimance_common::__private::serde::Serialize
                + ::experimance_common::__private::serde::de::DeserializeOwned
                + ::core::fmt::Debug
                + ::core::marker::Send
                + ::core::marker::Sync
                + 'static
        });
    }
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();

    quote! {
        #error

        const _: () = {
            #[automatically_derived]
            impl #impl_generics ::experimance_common::Message for #self_ty #ty_generics #where_clause {
                const TYPE: &'static str = #type_name;
            }
        };
    }
}
