//! The one `bindgen!` of the host, generated from the top-level `wit/`.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "control",
    imports: {
        // AWS calls are async on the host (to WebAssembly they still block) and may end
        // the remediation with a trap when a limit is exhausted.
        "hubfix:plugin/iam": async | trappable,
        "hubfix:plugin/ec2": async | trappable,
        default: trappable,
    },
    exports: { default: async },
    trappable_error_type: {
        "hubfix:plugin/types.aws-error" => crate::aws::CallError,
    },
    additional_derives: [serde::Serialize],
});

pub use hubfix::plugin::{ec2, iam, log, types};
