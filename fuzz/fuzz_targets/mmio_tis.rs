//! Register-read corruption in the memory-mapped TIS (`hal_tpm_spi`'s
//! `MmioTis`, as on QEMU `virt` or the PC TIS window): the register-level
//! TPM model behind it answers with canned, fuzzed responses, its
//! misbehaviour hooks are switched on as the input says, and every
//! register read (32-bit and byte) goes through a fuzzed XOR plan while
//! the driver runs init, locality, abort, raw commands and the source's
//! init/random/seal. Whatever the corruption: no panic, no hang, and
//! random bytes that failed are zero.
//!
//! Input: control (flags unused yet, burst max u16, fault kinds u16,
//! fault argument u16, ops) `ff fe` read plan `ff fe` canned answers
//! separated by `ff fe`.
#![no_main]

use std::cell::RefCell;

use hal_tpm_spi::sim::{CannedBackend, Fault, SimMmio, TpmSim};
use hal_tpm_spi::spec::ResponseCode;
use hal_tpm_spi::{MmioTis, Tis};
use libfuzzer_sys::fuzz_target;
use trusted_core::test_util::NoDelay;
use trusted_keys_fuzz::{FAST_TIMEOUTS, Input, ReadPlan, XorMmio, drive_tpm_source, pieces};

fn faults(sim: &mut TpmSim<CannedBackend<'_>>, input: &mut Input<'_>) {
    let kinds = input.u16();
    let arg = input.u16();
    let all = [
        Fault::BurstOne,
        Fault::BurstZero,
        Fault::ShortResponse(arg),
        Fault::OversizedResponse(arg),
        Fault::TrailingBytes(arg),
        Fault::DataAvailNever,
        Fault::CommandReadyNever,
        Fault::LocalityNever,
        Fault::Rc(ResponseCode(u32::from(arg))),
        Fault::NoStsValidWhenReady,
    ];
    for (i, f) in all.into_iter().enumerate() {
        if kinds & (1 << i) != 0 {
            sim.inject(f);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut parts = pieces(data);
    let mut control = Input::new(parts.next().unwrap_or_default());
    let plan = ReadPlan::decode(parts.next().unwrap_or_default());
    let answers: Vec<&[u8]> = parts.collect();
    let _flags = control.byte();
    let mut sim = TpmSim::new(CannedBackend::new(&answers)).with_burst_max(control.u16());
    faults(&mut sim, &mut control);
    let ops = control.rest();
    let dev = RefCell::new(sim);
    let mmio = XorMmio::new(SimMmio(&dev), plan);
    let tis = Tis::new(MmioTis::new(mmio), NoDelay).with_timeouts(FAST_TIMEOUTS);
    drive_tpm_source(tis, ops, |_| {});
});
