#![no_main]
//! See vmafx_controller::fuzzing::submit_job.

libfuzzer_sys::fuzz_target!(|data: &[u8]| vmafx_controller::fuzzing::submit_job(data));
