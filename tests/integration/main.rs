//! One integration-test binary (ripgrep-style): `mod` per concern.

mod chart_keys;
mod cli;
mod golden;
mod hostile;
mod output;
mod terraform;
mod tier_change;
mod util;
