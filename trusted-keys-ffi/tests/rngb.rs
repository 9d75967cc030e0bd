//! The RNGB through its C ABI, on the RNGB model (feature `dcp-sim`): the
//! bytes are the model's stream as the Rust driver reads it, a reboot
//! starts a fresh model, and every bad input is its distinct code.

mod common;

use std::ptr::{null, null_mut};

use common::*;
use hal_dcp::Rngb;
use hal_dcp::sim::RngbSim;
use trusted_core::test_util::NoDelay;
use trusted_keys_ffi::*;

/// The seed the FFI's sim build gives its RNGB model.
const SIM_SEED: u64 = 0x6011_dc90_0000_00c1;

fn random(ctx: *mut RngbCtx, len: usize) -> (i32, Vec<u8>) {
    let mut out = vec![0u8; len];
    let rc = unsafe { tk_rngb_random(ctx, out.as_mut_ptr(), len) };
    (rc, out)
}

/// What the Rust driver reads from a model with the same seed.
fn model_stream(len: usize) -> Vec<u8> {
    let mut rngb = Rngb::new(RngbSim::new().with_seed(SIM_SEED), NoDelay);
    assert!(rngb.init().is_ok());
    let mut out = vec![0u8; len];
    assert!(rngb.fill(&mut out).is_ok());
    out
}

#[test]
fn random_bytes_are_the_seeded_rngb_stream_and_a_reboot_starts_over() {
    let _lock = device_lock();
    let board = Board::new();
    let ctx = new_ctx::<RngbCtx>();
    assert_eq!(unsafe { tk_rngb_init(ctx, &rngb_config(&board)) }, TK_OK);
    // 100 bytes: more than one 64-byte chunk, not a multiple of a word.
    let (rc, first) = random(ctx, 100);
    assert_eq!(rc, TK_OK);
    assert_eq!(first, model_stream(100));
    assert_ne!(first[..50], first[50..]);
    assert_eq!(unsafe { tk_rngb_deinit(ctx) }, TK_OK);
    assert_eq!(unsafe { tk_rngb_init(ctx, &rngb_config(&board)) }, TK_OK);
    assert_eq!(random(ctx, 100), (TK_OK, first));
    assert_eq!(unsafe { tk_rngb_deinit(ctx) }, TK_OK);
}

#[test]
fn bad_inputs_give_their_codes() {
    let _lock = device_lock();
    let board = Board::new();
    let ctx = new_ctx::<RngbCtx>();
    let good = rngb_config(&board);
    assert_eq!(unsafe { tk_rngb_init(null_mut(), &good) }, TK_E_NULL);
    assert_eq!(unsafe { tk_rngb_init(ctx, null()) }, TK_E_NULL);
    let mut no_regs = good;
    no_regs.regs = null_mut();
    assert_eq!(unsafe { tk_rngb_init(ctx, &no_regs) }, TK_E_NULL);
    let mut no_delay = good;
    no_delay.platform.delay_us = None;
    assert_eq!(unsafe { tk_rngb_init(ctx, &no_delay) }, TK_E_NULL);
    let mut future = good;
    future.version = TK_CONFIG_VERSION + 1;
    assert_eq!(unsafe { tk_rngb_init(ctx, &future) }, TK_E_CONFIG_VERSION);
    assert_eq!(random(ctx, 16).0, TK_E_NOT_INIT);

    assert_eq!(unsafe { tk_rngb_init(ctx, &good) }, TK_OK);
    assert_eq!(unsafe { tk_rngb_init(ctx, &good) }, TK_E_BUSY);
    let other = new_ctx::<RngbCtx>();
    assert_eq!(
        unsafe { tk_rngb_init(other, &good) },
        TK_E_BUSY,
        "RNGB held"
    );
    assert_eq!(unsafe { tk_rngb_random(ctx, null_mut(), 16) }, TK_E_NULL);
    assert_eq!(unsafe { tk_rngb_random(ctx, null_mut(), 0) }, TK_OK);
    assert_eq!(unsafe { tk_rngb_deinit(ctx) }, TK_OK);
    assert_eq!(random(ctx, 16).0, TK_E_NOT_INIT);
}
