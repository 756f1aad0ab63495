//! The one `bindgen!` of the host, generated from the top-level `wit/`.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "control",
    imports: {
        // Logging is synchronous. Every other import is an AWS host function: async on
        // the host (to WebAssembly it still blocks), and able to end the remediation with
        // a trap when a limit is exhausted. A new service needs no entry here.
        "hubfix:plugin/log": trappable,
        default: async | trappable,
    },
    exports: { default: async },
    trappable_error_type: {
        "hubfix:plugin/types.aws-error" => crate::aws::CallError,
    },
    additional_derives: [serde::Serialize, PartialEq],
});

pub use self::hubfix::plugin::*;
