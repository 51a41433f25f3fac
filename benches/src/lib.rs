//! Nothing to see here: this package exists for its benchmarks
//! (`benches/benches/`) and for the tests that run kettle beside tokio
//! (`benches/tests/`), so that kettle itself never depends on either.
