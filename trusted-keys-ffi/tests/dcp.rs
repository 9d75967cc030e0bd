//! The DCP backend through its C ABI, on the DCP model (feature `dcp-sim`):
//! the boot flow, the HUK, interop with the Rust API, and every bad input
//! of the list as the distinct code it must give.

mod common;

use std::ffi::c_void;
use std::ptr::{null, null_mut};

use common::*;
use hal_dcp::sim::DcpSim;
use hal_dcp::{Dcp, DcpHuk, DcpSource};
use trusted_core::test_util::{NoDelay, ScriptRng, leaked_dma};
use trusted_core::{Huk, Key, TrustSource};
use trusted_keys_ffi::*;

const KEY: [u8; 32] = *b"0123456789abcdef0123456789abcdef";
const SIM_UNIQUE_KEY: [u8; 16] = *b"imx6ull-demo-key";

fn init(board: &Board) -> *mut DcpCtx {
    let ctx = new_ctx::<DcpCtx>();
    let cfg = dcp_config(board);
    assert_eq!(unsafe { tk_dcp_init(ctx, &cfg) }, TK_OK);
    ctx
}

fn seal(ctx: *mut DcpCtx, key: &[u8]) -> (i32, Vec<u8>, usize) {
    out(TK_MAX_BLOB_SIZE, |b, l| unsafe {
        tk_dcp_seal(ctx, key.as_ptr(), key.len(), b, l)
    })
}

fn unseal(ctx: *mut DcpCtx, blob: &[u8]) -> (i32, Vec<u8>, usize) {
    out(TK_MAX_KEY_SIZE, |k, l| unsafe {
        tk_dcp_unseal(ctx, blob.as_ptr(), blob.len(), k, l)
    })
}

#[test]
fn seal_reboot_unseal_gives_the_key_back() {
    let _lock = device_lock();
    let board = Board::new();
    let ctx = init(&board);
    let (rc, blob, len) = seal(ctx, &KEY);
    assert_eq!(rc, TK_OK);
    assert_eq!(len, KEY.len() + TK_DCP_BLOB_OVERHEAD);
    assert_eq!(blob[0], 1, "trusted_dcp format version");
    assert_eq!(unsafe { tk_dcp_deinit(ctx) }, TK_OK);
    // "Reboot": the same storage, initialised again on a fresh model.
    assert_eq!(unsafe { tk_dcp_init(ctx, &dcp_config(&board)) }, TK_OK);
    let (rc, key, len) = unseal(ctx, &blob);
    assert_eq!((rc, len), (TK_OK, 32));
    assert_eq!(key, KEY);
    assert!(*board.cleaned.borrow() > 0, "the cache clean hook ran");
    assert!(
        *board.invalidated.borrow() > 0,
        "the cache invalidate hook ran"
    );
    assert_eq!(unsafe { tk_dcp_deinit(ctx) }, TK_OK);
}

#[test]
fn blob_from_the_c_abi_opens_with_the_rust_api_and_back() {
    let _lock = device_lock();
    let board = Board::new();
    let ctx = init(&board);
    let (rc, blob, _) = seal(ctx, &KEY);
    assert_eq!(rc, TK_OK);
    assert_eq!(unsafe { tk_dcp_deinit(ctx) }, TK_OK);

    let dma = leaked_dma(1024, 0x9000_0000);
    let sim = DcpSim::new(dma.bus()).with_unique_key(SIM_UNIQUE_KEY);
    let dcp = Dcp::new(sim, dma, NoDelay).unwrap();
    let mut rust = DcpSource::new(dcp, ScriptRng::counting(7));
    rust.init().unwrap();
    assert_eq!(rust.unseal(&blob, "").unwrap().as_bytes(), KEY);
    let theirs = rust
        .seal(&Key::from_slice(&[0x5a; 48]).unwrap(), "")
        .unwrap();

    let ctx = init(&board);
    let (rc, key, _) = unseal(ctx, theirs.as_bytes());
    assert_eq!(rc, TK_OK);
    assert_eq!(key, [0x5a; 48]);
    assert_eq!(unsafe { tk_dcp_deinit(ctx) }, TK_OK);
}

#[test]
fn huk_equals_the_rust_providers_and_is_cached() {
    let _lock = device_lock();
    let board = Board::new();
    let ctx = init(&board);
    let (rc, huk, len) = out(16, |h, l| unsafe { tk_dcp_huk(ctx, h, l) });
    assert_eq!((rc, len), (TK_OK, TK_HUK_LEN));
    let (rc, again, _) = out(16, |h, l| unsafe { tk_dcp_huk(ctx, h, l) });
    assert_eq!((rc, &again), (TK_OK, &huk), "second call: the cached HUK");
    assert_eq!(unsafe { tk_dcp_deinit(ctx) }, TK_OK);

    let dma = leaked_dma(1024, 0x9000_0000);
    let sim = DcpSim::new(dma.bus()).with_unique_key(SIM_UNIQUE_KEY);
    let mut rust = DcpHuk::new(Dcp::new(sim, dma, NoDelay).unwrap());
    assert_eq!(rust.hardware_unique_key().unwrap().as_slice(), huk);
}

#[test]
fn huk_disables_the_unique_key_until_the_next_power_cycle() {
    let _lock = device_lock();
    let board = Board::new();
    let ctx = init(&board);
    let (rc, _, _) = out(16, |h, l| unsafe { tk_dcp_huk(ctx, h, l) });
    assert_eq!(rc, TK_OK);
    let (rc, blob, _) = seal(ctx, &KEY);
    assert_ne!(rc, TK_OK, "UNIQUE key disabled: sealing must fail");
    assert!(blob.iter().all(|&b| b == 0), "failed output is zeroed");
    assert_eq!(unsafe { tk_dcp_deinit(ctx) }, TK_OK);
    let ctx = init(&board);
    assert_eq!(seal(ctx, &KEY).0, TK_OK, "a new model is a power cycle");
    assert_eq!(unsafe { tk_dcp_deinit(ctx) }, TK_OK);
}

#[test]
fn otp_key_of_an_unfused_part_is_refused_as_insecure() {
    let _lock = device_lock();
    let board = Board::new();
    let ctx = new_ctx::<DcpCtx>();
    let mut cfg = dcp_config(&board);
    cfg.sealing_key = TK_DCP_KEY_OTP;
    assert_eq!(unsafe { tk_dcp_init(ctx, &cfg) }, TK_E_INSECURE);
    cfg.sealing_key = 7;
    assert_eq!(unsafe { tk_dcp_init(ctx, &cfg) }, TK_E_INVALID_ARG);
}

#[test]
fn init_rejects_null_misaligned_and_future_inputs_with_distinct_codes() {
    let _lock = device_lock();
    let board = Board::new();
    let ctx = new_ctx::<DcpCtx>();
    let good = dcp_config(&board);
    let init = |cfg: &DcpConfig| unsafe { tk_dcp_init(ctx, cfg) };

    assert_eq!(unsafe { tk_dcp_init(null_mut(), &good) }, TK_E_NULL);
    assert_eq!(unsafe { tk_dcp_init(ctx, null()) }, TK_E_NULL);
    let misaligned_ctx = ctx.cast::<u8>().wrapping_add(4).cast::<DcpCtx>();
    assert_eq!(unsafe { tk_dcp_init(misaligned_ctx, &good) }, TK_E_ALIGN);
    let mut raw = [0u64; 16];
    let misaligned_cfg = raw
        .as_mut_ptr()
        .cast::<u8>()
        .wrapping_add(2)
        .cast::<DcpConfig>();
    assert_eq!(unsafe { tk_dcp_init(ctx, misaligned_cfg) }, TK_E_ALIGN);

    let mut future = good;
    future.version = TK_CONFIG_VERSION + 1;
    future.size += 16; // a newer, longer struct: decided from the header alone
    assert_eq!(init(&future), TK_E_CONFIG_VERSION);
    let mut zero_version = good;
    zero_version.version = 0;
    assert_eq!(init(&zero_version), TK_E_CONFIG_VERSION);
    let mut short = good;
    short.size -= 4;
    assert_eq!(init(&short), TK_E_CONFIG_SIZE);

    let mut no_regs = good;
    no_regs.regs = null_mut();
    assert_eq!(init(&no_regs), TK_E_NULL);
    let mut odd_regs = good;
    odd_regs.regs = 0x0228_0002 as *mut c_void;
    assert_eq!(init(&odd_regs), TK_E_ALIGN);
    let mut no_delay = good;
    no_delay.platform.delay_us = None;
    assert_eq!(init(&no_delay), TK_E_NULL);
    let mut no_rng = good;
    no_rng.platform.random = None;
    assert_eq!(init(&no_rng), TK_E_NULL);

    let mut no_dma = good;
    no_dma.dma.cpu = null_mut();
    assert_eq!(init(&no_dma), TK_E_NULL);
    let mut odd_dma = good;
    odd_dma.dma.cpu = good.dma.cpu.cast::<u8>().wrapping_add(1).cast();
    assert_eq!(init(&odd_dma), TK_E_ALIGN);
    let mut odd_bus = good;
    odd_bus.dma.bus += 2;
    assert_eq!(init(&odd_bus), TK_E_ALIGN);
    let mut small_dma = good;
    small_dma.dma.len = TK_DCP_MIN_DMA_LEN - 4;
    assert_eq!(init(&small_dma), TK_E_DMA_SIZE);
    let mut high_dma = good;
    high_dma.dma.bus = 0xFFFF_FF00;
    assert_eq!(init(&high_dma), TK_E_DMA_PLACEMENT, "region crosses 4 GiB");

    assert_eq!(
        unsafe { (*ctx)._opaque },
        [0; TK_DCP_CTX_SIZE],
        "failed inits leave it zero"
    );
    assert_eq!(init(&good), TK_OK, "and the good config still works");
    assert_eq!(unsafe { tk_dcp_deinit(ctx) }, TK_OK);
}

#[test]
fn second_init_of_a_busy_context_or_device_is_busy() {
    let _lock = device_lock();
    let board = Board::new();
    let ctx = init(&board);
    let cfg = dcp_config(&board);
    assert_eq!(unsafe { tk_dcp_init(ctx, &cfg) }, TK_E_BUSY, "same context");
    let other = new_ctx::<DcpCtx>();
    assert_eq!(
        unsafe { tk_dcp_init(other, &cfg) },
        TK_E_BUSY,
        "the DCP is held"
    );
    assert_eq!(seal(ctx, &KEY).0, TK_OK, "the first context is untouched");
    assert_eq!(unsafe { tk_dcp_deinit(ctx) }, TK_OK);
    assert_eq!(
        unsafe { tk_dcp_init(other, &cfg) },
        TK_OK,
        "free after deinit"
    );
    assert_eq!(unsafe { tk_dcp_deinit(other) }, TK_OK);
}

#[test]
fn calls_on_a_context_never_initialised_or_deinitialised_fail() {
    let _lock = device_lock();
    let board = Board::new();
    let fresh = new_ctx::<DcpCtx>();
    assert_eq!(seal(fresh, &KEY).0, TK_E_NOT_INIT);
    assert_eq!(unsafe { tk_dcp_deinit(fresh) }, TK_E_NOT_INIT);
    let ctx = init(&board);
    assert_eq!(unsafe { tk_dcp_deinit(ctx) }, TK_OK);
    let (rc, _, len) = unseal(ctx, &[0; 85]);
    assert_eq!((rc, len), (TK_E_NOT_INIT, 0));
    assert_eq!(unsafe { tk_dcp_deinit(ctx) }, TK_E_NOT_INIT);
    assert_eq!(unsafe { tk_dcp_deinit(null_mut()) }, TK_E_NULL);
}

#[test]
fn seal_and_unseal_reject_bad_buffers() {
    let _lock = device_lock();
    let board = Board::new();
    let ctx = init(&board);
    let mut blob = [0u8; TK_MAX_BLOB_SIZE];
    let mut len = blob.len();
    let seal_raw = |key: *const u8, key_len, blob: *mut u8, len: *mut usize| unsafe {
        tk_dcp_seal(ctx, key, key_len, blob, len)
    };
    assert_eq!(seal_raw(null(), 32, blob.as_mut_ptr(), &mut len), TK_E_NULL);
    assert_eq!(seal_raw(KEY.as_ptr(), 32, null_mut(), &mut len), TK_E_NULL);
    assert_eq!(
        seal_raw(KEY.as_ptr(), 32, blob.as_mut_ptr(), null_mut()),
        TK_E_NULL
    );
    let mut words = [0usize; 2];
    let odd_len = words
        .as_mut_ptr()
        .cast::<u8>()
        .wrapping_add(1)
        .cast::<usize>();
    assert_eq!(
        seal_raw(KEY.as_ptr(), 32, blob.as_mut_ptr(), odd_len),
        TK_E_ALIGN
    );
    assert_eq!(
        seal_raw(KEY.as_ptr(), 31, blob.as_mut_ptr(), &mut len),
        TK_E_KEY_LENGTH
    );
    let long = [7u8; 129];
    assert_eq!(
        seal_raw(long.as_ptr(), 129, blob.as_mut_ptr(), &mut len),
        TK_E_KEY_LENGTH
    );

    // Too short an output: the length needed comes back, nothing is written.
    let (rc, bytes, needed) = out(84, |b, l| unsafe {
        tk_dcp_seal(ctx, KEY.as_ptr(), 32, b, l)
    });
    assert_eq!((rc, needed), (TK_E_BUFFER_TOO_SMALL, 85));
    assert!(bytes.iter().all(|&b| b == 0xA5));

    let (rc, sealed, _) = seal(ctx, &KEY);
    assert_eq!(rc, TK_OK);
    let (rc, _, needed) = out(31, |k, l| unsafe {
        tk_dcp_unseal(ctx, sealed.as_ptr(), sealed.len(), k, l)
    });
    assert_eq!((rc, needed), (TK_E_BUFFER_TOO_SMALL, 32));
    let over = [0u8; TK_MAX_BLOB_SIZE + 1];
    assert_eq!(unseal(ctx, &over).0, TK_E_BLOB_LENGTH);
    assert_eq!(
        unseal(ctx, &sealed[..52]).0,
        TK_E_BLOB_LENGTH,
        "shorter than a header"
    );
    assert_eq!(
        unseal(ctx, &sealed[..84]).0,
        TK_E_BLOB_FORMAT,
        "length field disagrees"
    );
    let mut tampered = sealed.clone();
    tampered[60] ^= 1;
    let (rc, key, len) = unseal(ctx, &tampered);
    assert_eq!((rc, len), (TK_E_AUTH, 0));
    assert!(
        key.iter().all(|&b| b == 0),
        "no plaintext survives a failed unseal"
    );
    let mut version = sealed.clone();
    version[0] = 2;
    assert_eq!(unseal(ctx, &version).0, TK_E_BLOB_FORMAT);
    let (rc, _, _) = out(16, |_, l| unsafe {
        tk_dcp_unseal(ctx, null(), 85, null_mut(), l)
    });
    assert_eq!(rc, TK_E_NULL);
    let (rc, _, needed) = out(15, |h, l| unsafe { tk_dcp_huk(ctx, h, l) });
    assert_eq!((rc, needed), (TK_E_BUFFER_TOO_SMALL, 16));
    assert_eq!(unsafe { tk_dcp_deinit(ctx) }, TK_OK);
}

#[test]
fn failing_rng_is_reported_and_the_output_zeroed() {
    let _lock = device_lock();
    let board = Board::new();
    let ctx = init(&board);
    *board.rng_fails.borrow_mut() = true;
    let (rc, blob, len) = seal(ctx, &KEY);
    assert_eq!((rc, len), (TK_E_RNG, 0));
    assert!(blob.iter().all(|&b| b == 0));
    *board.rng_fails.borrow_mut() = false;
    assert_eq!(seal(ctx, &KEY).0, TK_OK);
    assert_eq!(unsafe { tk_dcp_deinit(ctx) }, TK_OK);
}

#[test]
fn a_callback_calling_back_into_its_context_gets_busy() {
    let _lock = device_lock();
    let board = Board::new();
    let ctx = init(&board);
    let seen = std::rc::Rc::new(std::cell::Cell::new(0));
    let inner = seen.clone();
    *board.in_rng.borrow_mut() = Some(Box::new(move || {
        let (rc, _, _) = seal(ctx, &KEY);
        inner.set(rc);
    }));
    assert_eq!(seal(ctx, &KEY).0, TK_OK, "the outer call completes");
    assert_eq!(seen.get(), TK_E_BUSY, "the nested call was refused");
    *board.in_rng.borrow_mut() = None;
    assert_eq!(unsafe { tk_dcp_deinit(ctx) }, TK_OK);
}

#[test]
fn deinit_zeroes_the_context_and_the_dma_region() {
    let _lock = device_lock();
    let board = Board::new();
    let ctx = new_ctx::<DcpCtx>();
    let cfg = dcp_config(&board);
    assert_eq!(unsafe { tk_dcp_init(ctx, &cfg) }, TK_OK);
    assert!(unsafe { (*ctx)._opaque.iter().any(|&b| b != 0) });
    // What an interrupted job could leave behind in the region.
    let region = unsafe { std::slice::from_raw_parts_mut(cfg.dma.cpu.cast::<u8>(), cfg.dma.len) };
    region.fill(0x3c);
    assert_eq!(unsafe { tk_dcp_deinit(ctx) }, TK_OK);
    assert!(unsafe { (*ctx)._opaque.iter().all(|&b| b == 0) });
    assert!(region.iter().all(|&b| b == 0));
}
