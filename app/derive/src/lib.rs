//! `#[derive(FromJson)]`: the reader of `app::model::lean` for a struct with named fields or an
//! enum of unit variants, from the type's own serde attributes, so that it reads what serde's
//! derived `Deserialize` reads: `rename`, `rename_all` (`lowercase`, `snake_case`), `default`
//! (also `default = "path"`), `flatten` and `skip_deserializing` (or `skip`). Any other serde
//! attribute that changes reading (`deserialize_with`, `tag`, `untagged`, …) is refused at
//! compile time: such a type's reader is written by hand.
//!
//! The struct's reader reads each field in turn without returning early: a field that fails
//! notes why in one slot and takes a placeholder, and the value is dropped once at the end if a
//! field failed. The drop code of the fields read before a failure, which an early return would
//! need at each field, is most of a derived reader's size (BENCHMARKS.md, "The readers of the
//! board's data").

use proc_macro::TokenStream;
use proc_macro2::TokenStream as Tokens;
use quote::quote;
use syn::{parse_macro_input, Data, DeriveInput, Error, Fields, LitStr, Result};

#[proc_macro_derive(FromJson, attributes(serde))]
pub fn derive_from_json(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand(&input)
        .unwrap_or_else(Error::into_compile_error)
        .into()
}

/// What the serde attributes of a type, field or variant say about reading it.
#[derive(Default)]
struct Serde {
    rename: Option<String>,
    rename_all: Option<String>,
    default: Option<Option<syn::ExprPath>>,
    flatten: bool,
    skip: bool,
}

fn serde_of(attrs: &[syn::Attribute]) -> Result<Serde> {
    let mut serde = Serde::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        attr.parse_nested_meta(|meta| {
            let name = meta
                .path
                .get_ident()
                .map(ToString::to_string)
                .unwrap_or_default();
            match name.as_str() {
                "rename" => serde.rename = Some(meta.value()?.parse::<LitStr>()?.value()),
                "rename_all" => serde.rename_all = Some(meta.value()?.parse::<LitStr>()?.value()),
                "default" => {
                    serde.default = Some(if meta.input.peek(syn::Token![=]) {
                        Some(meta.value()?.parse::<LitStr>()?.parse()?)
                    } else {
                        None
                    })
                }
                "flatten" => serde.flatten = true,
                "skip_deserializing" | "skip" => serde.skip = true,
                // Writing only: no bearing on reading.
                "skip_serializing_if" | "skip_serializing" | "serialize_with" | "transparent" => {
                    if meta.input.peek(syn::Token![=]) {
                        meta.value()?.parse::<syn::Expr>()?;
                    }
                }
                other => {
                    return Err(meta.error(format!(
                    "#[derive(FromJson)] does not read serde's `{other}`: write FromJson by hand"
                )))
                }
            }
            Ok(())
        })?;
    }
    Ok(serde)
}

fn renamed(name: &str, rule: Option<&str>) -> Result<String> {
    Ok(match rule {
        None => name.to_owned(),
        Some("lowercase") => name.to_lowercase(),
        Some("snake_case") => {
            let mut out = String::new();
            for (i, c) in name.char_indices() {
                if c.is_uppercase() && i > 0 {
                    out.push('_');
                }
                out.extend(c.to_lowercase());
            }
            out
        }
        Some(other) => {
            return Err(Error::new(
                proc_macro2::Span::call_site(),
                format!("#[derive(FromJson)] does not know rename_all = \"{other}\""),
            ))
        }
    })
}

fn expand(input: &DeriveInput) -> Result<Tokens> {
    let name = &input.ident;
    let where_clause = input.generics.where_clause.as_ref();
    let bounded = input.generics.type_params().map(|p| &p.ident);
    let where_clause = {
        let mut clause = where_clause
            .cloned()
            .unwrap_or_else(|| syn::parse_quote!(where));
        for param in bounded {
            clause
                .predicates
                .push(syn::parse_quote!(#param: crate::model::lean::FromJson));
        }
        clause
    };
    let container = serde_of(&input.attrs)?;
    let (read, placeholder) = match &input.data {
        Data::Struct(data) => {
            let fields = match &data.fields {
                Fields::Named(fields) => fields,
                // A newtype (serde reads it as its field).
                Fields::Unnamed(fields) if fields.unnamed.len() == 1 => {
                    let ty = &fields.unnamed[0].ty;
                    return Ok(implementation(
                        input,
                        where_clause,
                        quote!(<#ty as crate::model::lean::FromJson>::from_json(value).map(#name)),
                        quote!(#name(<#ty as crate::model::lean::FromJson>::placeholder())),
                    ));
                }
                _ => {
                    return Err(Error::new_spanned(
                        name,
                        "#[derive(FromJson)] reads structs with named fields, and newtypes",
                    ))
                }
            };
            let mut reads = Vec::new();
            let mut placeholders = Vec::new();
            for field in &fields.named {
                let ident = field.ident.as_ref().expect("a named field");
                let ty = &field.ty;
                let serde = serde_of(&field.attrs)?;
                let key = match serde.rename {
                    Some(rename) => rename,
                    None => renamed(&ident.to_string(), container.rename_all.as_deref())?,
                };
                let read = if serde.skip {
                    quote!(::core::default::Default::default())
                } else if serde.flatten {
                    quote!(crate::model::lean::flattened::<_, #ty>(value, &mut failure))
                } else {
                    match serde.default {
                        None => {
                            quote!(crate::model::lean::field::<_, #ty>(value, #key, &mut failure))
                        }
                        Some(None) => quote!(
                            crate::model::lean::field_or::<_, #ty>(value, #key, ::core::default::Default::default, &mut failure)
                        ),
                        Some(Some(path)) => quote!(
                            crate::model::lean::field_or::<_, #ty>(value, #key, #path, &mut failure)
                        ),
                    }
                };
                reads.push(quote!(#ident: #read));
                placeholders
                    .push(quote!(#ident: <#ty as crate::model::lean::FromJson>::placeholder()));
            }
            (
                quote! {
                    if !crate::model::lean::JsonValue::is_object(value) {
                        return ::core::result::Result::Err(crate::model::lean::ReadError::expected("an object"));
                    }
                    let mut failure = ::core::option::Option::None;
                    let read = #name { #(#reads),* };
                    crate::model::lean::finish(read, failure)
                },
                quote!(#name { #(#placeholders),* }),
            )
        }
        Data::Enum(data) => {
            let mut arms = Vec::new();
            let mut names = Vec::new();
            for variant in &data.variants {
                if !matches!(variant.fields, Fields::Unit) {
                    return Err(Error::new_spanned(
                        variant,
                        "#[derive(FromJson)] reads enums of unit variants",
                    ));
                }
                let serde = serde_of(&variant.attrs)?;
                let ident = &variant.ident;
                let wire = match serde.rename {
                    Some(rename) => rename,
                    None => renamed(&ident.to_string(), container.rename_all.as_deref())?,
                };
                arms.push(quote!(#wire => ::core::result::Result::Ok(#name::#ident)));
                names.push(wire);
            }
            let first = data
                .variants
                .first()
                .map(|v| &v.ident)
                .ok_or_else(|| Error::new_spanned(name, "an enum without variants"))?;
            let expected = names.join(", ");
            (
                quote! {
                    let text = <::std::string::String as crate::model::lean::FromJson>::from_json(value)?;
                    match text.as_str() {
                        #(#arms,)*
                        _ => ::core::result::Result::Err(crate::model::lean::ReadError::expected(#expected)),
                    }
                },
                quote!(#name::#first),
            )
        }
        Data::Union(_) => {
            return Err(Error::new_spanned(
                name,
                "#[derive(FromJson)] reads no unions",
            ))
        }
    };
    Ok(implementation(input, where_clause, read, placeholder))
}

/// The `impl FromJson` of `input` with these bodies.
fn implementation(
    input: &DeriveInput,
    where_clause: syn::WhereClause,
    read: Tokens,
    placeholder: Tokens,
) -> Tokens {
    let name = &input.ident;
    let (impl_generics, type_generics, _) = input.generics.split_for_impl();
    quote! {
        impl #impl_generics crate::model::lean::FromJson for #name #type_generics #where_clause {
            fn from_json<J: crate::model::lean::JsonValue>(
                value: &J,
            ) -> ::core::result::Result<Self, crate::model::lean::ReadError> {
                #read
            }

            fn placeholder() -> Self {
                #placeholder
            }
        }
    }
}
