#![no_main]
//! See vmafx_controller::fuzzing::y4m_header.

libfuzzer_sys::fuzz_target!(|data: &[u8]| vmafx_controller::fuzzing::y4m_header(data));
