//! kettle-mini (stub, being written).
#![forbid(unsafe_code)]
