//! Empty: cargo builds a package's build-dependencies only when it has a build script, and
//! the hack's build-dependencies pin the features of what build scripts and proc macros use.
fn main() {}
