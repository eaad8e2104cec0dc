//! One integration-test binary (ripgrep-style): `mod` per concern.

mod catalogue;
mod chart_keys;
mod cli;
mod fuzz_cases;
mod golden;
mod hostile;
mod layers;
mod network;
mod output;
mod review;
mod setup;
mod terraform;
mod tier_change;
mod util;
