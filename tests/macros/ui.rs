//! Compile-time checks of the macros: what must compile, and what must fail with a
//! helpful message at the right tokens. Each `.stderr` was read by a person; rerun with
//! `TRYBUILD=overwrite` after a deliberate change and read the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("ui/*/pass/*.rs");
    t.compile_fail("ui/*/fail/*.rs");
}
