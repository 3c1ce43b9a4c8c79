#![no_main]
//! See vmafx_controller::fuzzing::http_job_json.

libfuzzer_sys::fuzz_target!(|data: &[u8]| vmafx_controller::fuzzing::http_job_json(data));
