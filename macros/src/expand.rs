//! The generated code: the `impl Message` and the registration.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::ext::IdentExt;
use syn::{DeriveInput, LitStr};

use crate::ast::{Field, Input, Shape};
use crate::fallback;

pub(crate) fn derive(node: &DeriveInput) -> TokenStream {
    let input = Input::from_syn(node);
    match input.validate() {
        Ok(()) => impl_message(&input),
        // The errors, and an `impl Message` anyway: no cascade at the type's uses.
        Err(err) => fallback::expand(&input, &err),
    }
}

/// The expansion of a valid input.
fn impl_message(input: &Input<'_>) -> TokenStream {
    let ident = input.ident;
    let rust_name = LitStr::new(&ident.unraw().to_string(), Span::call_site());
    let type_name = input.type_name().unwrap_or_default();
    let aliases = input.aliases();
    let fields = match &input.shape {
        Shape::Named(fields) => fields.as_slice(),
        _ => &[],
    };
    let fields = fields.iter().filter(|f| !f.skipped).map(|f| {
        let Field { wire_name, rust_type, optional, decode_names, .. } = f;
        quote! {
            ::experimance_common::registry::FieldInfo {
                name: #wire_name,
                rust_type: #rust_type,
                optional: #optional,
                decode_names: &[#(#decode_names),*],
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
                ::experimance_common::registry::MessageInfo::__new::<#ident>(
                    ::core::concat!(::core::module_path!(), "::", #rust_name),
                    &[#(#fields),*],
                )
            }
        };
    }
}
