//! End-to-end checks across the workspace crates. The fault matrix lives here
//! as a library so both the test suite (`tests/fault_matrix.rs`) and the
//! reliability report (`cargo xtask reliability`) run the same cases.

pub mod binaries;
pub mod canned;
pub mod chaos;
pub mod docs;
pub mod matrix;
