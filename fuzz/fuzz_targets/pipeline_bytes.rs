//! Raw bytes as a spec file: parse -> plan -> render, in memory. Bytes that
//! are not UTF-8 never reach the parser (the CLI refuses to read them).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        coder_gen_fuzz::check_pipeline("spec.yaml", text);
    }
});
