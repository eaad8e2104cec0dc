//! One integration-test binary (ripgrep-style): `mod` per concern.

mod cli;
mod golden;
mod hostile;
mod terraform;
mod util;
