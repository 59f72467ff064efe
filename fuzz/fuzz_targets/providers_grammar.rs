//! Arbitrary text as the input of `providers! { ... }`: the macro's parser, checks
//! and code generation, compiled from `oauth2-macros/src` (a proc-macro crate cannot
//! be linked into a program; its functions take `proc_macro2` streams, which work
//! outside a compiler). Whatever the input, the macro answers with code or a
//! `compile_error!`, never a panic.
#![no_main]
// `unknown_provider!` and helpers of the other macros are not reached from here.
#![allow(dead_code)]

#[path = "../../oauth2-macros/src/ctxt.rs"]
mod ctxt;
#[path = "../../oauth2-macros/src/providers/mod.rs"]
mod providers;
#[path = "../../oauth2-macros/src/runtime_path.rs"]
mod runtime_path;
#[path = "../../oauth2-macros/src/suggest.rs"]
mod suggest;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(input) = text.parse::<proc_macro2::TokenStream>() else {
        return;
    };
    let _ = providers::expand(input);
});
