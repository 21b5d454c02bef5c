//! The bindings generated from `wit/scale.wit` (world `app`). Apps never see this
//! module; `app!` reaches it through `__private`.

#![allow(missing_docs, clippy::all)]

wit_bindgen::generate!({
    path: "../wit",
    world: "app",
    pub_export_macro: true,
    export_macro_name: "__export_jac_scale_app",
    default_bindings_module: "::jac_scale_guest::__private::bindings",
    // `HostError` (the WIT `error`) is compared in apps' tests; storage metadata
    // holds floats, which have no `Eq`.
    additional_derives: [PartialEq, Eq],
    additional_derives_ignore: ["metadata"],
});
