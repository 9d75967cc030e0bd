//! The CAAM backend through its C ABI on the CAAM model (`caam-sim`).

mod common;

use common::*;
use hal_caam::sim::{CaamSim, SimConfig};
use hal_caam::{Caam, CaamHuk, CaamSource, Config, HukOptions};
use trusted_core::test_util::{NoDelay, leaked_dma};
use trusted_core::{Huk, TrustSource};
use trusted_keys_ffi::*;

const OTPMK: [u8; 32] = *b"imx8m-demo-otpmk-not-a-secret!!!";

fn init(cfg: &CaamConfig) -> (i32, *mut CaamCtx) {
    let ctx = new_ctx::<CaamCtx>();
    (unsafe { tk_caam_init(ctx, cfg) }, ctx)
}

fn seal(ctx: *mut CaamCtx, key: &[u8]) -> (i32, Vec<u8>, usize) {
    out(TK_MAX_BLOB_SIZE, |b, l| unsafe {
        tk_caam_seal(ctx, key.as_ptr(), key.len(), b, l)
    })
}

fn unseal(ctx: *mut CaamCtx, blob: &[u8]) -> (i32, Vec<u8>, usize) {
    out(TK_MAX_KEY_SIZE, |k, l| unsafe {
        tk_caam_unseal(ctx, blob.as_ptr(), blob.len(), k, l)
    })
}

#[test]
fn seal_reboot_unseal_random_and_huk() {
    let _lock = device_lock();
    let board = Board::new();
    let cfg = caam_config(&board);
    let (rc, ctx) = init(&cfg);
    assert_eq!(rc, TK_OK);
    let mut key = [0u8; 32];
    assert_eq!(
        unsafe { tk_caam_random(ctx, key.as_mut_ptr(), key.len()) },
        TK_OK
    );
    assert_ne!(key, [0; 32]);
    let mut more = [0u8; 200];
    assert_eq!(
        unsafe { tk_caam_random(ctx, more.as_mut_ptr(), more.len()) },
        TK_OK
    );
    assert_ne!(&more[..32], &key[..], "the RNG moves on");
    let (rc, blob, len) = seal(ctx, &key);
    assert_eq!((rc, len), (TK_OK, 32 + TK_CAAM_BLOB_OVERHEAD));
    let (rc, huk, _) = out(16, |h, l| unsafe { tk_caam_huk(ctx, h, l) });
    assert_eq!(rc, TK_OK);
    assert_eq!(unsafe { tk_caam_deinit(ctx) }, TK_OK);

    let (rc, ctx) = init(&cfg);
    assert_eq!(rc, TK_OK);
    let (rc, back, _) = unseal(ctx, &blob);
    assert_eq!((rc, back), (TK_OK, key.to_vec()));
    assert_eq!(unsafe { tk_caam_deinit(ctx) }, TK_OK);

    // The same blob and HUK from the Rust API on the same model.
    let dma = leaked_dma(2048, 0x8000_0000);
    let sim = CaamSim::new(dma.bus(), SimConfig::secure(OTPMK));
    let mut caam = Caam::new(sim, dma, NoDelay, Config::new(0)).unwrap();
    let mut rust_huk = CaamHuk::new(&mut caam, HukOptions::new()).unwrap();
    assert_eq!(rust_huk.hardware_unique_key().unwrap().as_slice(), huk);
    let mut source = CaamSource::new(caam);
    source.init().unwrap();
    assert_eq!(source.unseal(&blob, "").unwrap().as_bytes(), key);
}

#[test]
fn another_key_modifier_does_not_open_the_blob() {
    let _lock = device_lock();
    let board = Board::new();
    let mut cfg = caam_config(&board);
    let (rc, ctx) = init(&cfg);
    assert_eq!(rc, TK_OK);
    let (rc, blob, _) = seal(ctx, &[9; 40]);
    assert_eq!(rc, TK_OK);
    assert_eq!(unsafe { tk_caam_deinit(ctx) }, TK_OK);
    cfg.keymod = b"OTHER".as_ptr();
    cfg.keymod_len = 5;
    let (rc, ctx) = init(&cfg);
    assert_eq!(rc, TK_OK);
    let (rc, key, _) = unseal(ctx, &blob);
    assert_eq!(rc, TK_E_AUTH);
    assert!(key.iter().all(|&b| b == 0));
    assert_eq!(unsafe { tk_caam_deinit(ctx) }, TK_OK);
}

#[test]
fn job_rings_are_claimed_one_by_one() {
    let _lock = device_lock();
    let board = Board::new();
    let jr0 = caam_config(&board);
    let (rc, a) = init(&jr0);
    assert_eq!(rc, TK_OK);
    assert_eq!(init(&jr0).0, TK_E_BUSY, "JR0 is held");
    let jr1 = CaamConfig {
        job_ring: 1,
        dma: dma(2048),
        ..jr0
    };
    let (rc, b) = init(&jr1);
    assert_eq!(rc, TK_OK, "JR1 is another device");
    assert_eq!(unsafe { tk_caam_deinit(b) }, TK_OK);
    assert_eq!(unsafe { tk_caam_deinit(a) }, TK_OK);
}

#[test]
fn init_rejects_bad_caam_configs() {
    let _lock = device_lock();
    let board = Board::new();
    let good = caam_config(&board);
    let long_keymod = [b'k'; 17];
    for (what, cfg, code) in [
        (
            "job ring 4",
            CaamConfig {
                job_ring: 4,
                ..good
            },
            TK_E_INVALID_ARG,
        ),
        (
            "page size",
            CaamConfig {
                page_size: 0x2000,
                ..good
            },
            TK_E_INVALID_ARG,
        ),
        (
            "flags",
            CaamConfig {
                flags: 0x100,
                ..good
            },
            TK_E_INVALID_ARG,
        ),
        (
            "keymod 17 bytes",
            CaamConfig {
                keymod: long_keymod.as_ptr(),
                keymod_len: 17,
                ..good
            },
            TK_E_INVALID_ARG,
        ),
        (
            "no delay",
            CaamConfig {
                platform: Platform {
                    delay_us: None,
                    ..good.platform
                },
                ..good
            },
            TK_E_NULL,
        ),
        (
            "dma 32-aligned",
            CaamConfig {
                dma: Dma {
                    bus: good.dma.bus + 32,
                    ..good.dma
                },
                ..good
            },
            TK_E_ALIGN,
        ),
        (
            "dma small",
            CaamConfig {
                dma: Dma {
                    len: TK_CAAM_MIN_DMA_LEN - 64,
                    ..good.dma
                },
                ..good
            },
            TK_E_DMA_SIZE,
        ),
        (
            "dma above 4 GiB",
            CaamConfig {
                dma: Dma {
                    bus: 1 << 32,
                    ..good.dma
                },
                ..good
            },
            TK_E_DMA_PLACEMENT,
        ),
        (
            "future",
            CaamConfig { version: 7, ..good },
            TK_E_CONFIG_VERSION,
        ),
        ("size", CaamConfig { size: 8, ..good }, TK_E_CONFIG_SIZE),
    ] {
        assert_eq!(init(&cfg).0, code, "{what}");
    }
    // 64-bit pointers lift the 4 GiB limit.
    let high = CaamConfig {
        dma: Dma {
            bus: 1 << 32,
            ..good.dma
        },
        flags: TK_CAAM_POINTERS_64,
        ..good
    };
    let (rc, ctx) = init(&high);
    assert_eq!(rc, TK_OK);
    assert_eq!(unsafe { tk_caam_deinit(ctx) }, TK_OK);
}

#[test]
fn random_checks_its_buffer_and_zero_length_is_fine() {
    let _lock = device_lock();
    let board = Board::new();
    let (rc, ctx) = init(&caam_config(&board));
    assert_eq!(rc, TK_OK);
    assert_eq!(
        unsafe { tk_caam_random(ctx, std::ptr::null_mut(), 4) },
        TK_E_NULL
    );
    assert_eq!(
        unsafe { tk_caam_random(ctx, std::ptr::null_mut(), 0) },
        TK_OK
    );
    assert_eq!(unsafe { tk_caam_deinit(ctx) }, TK_OK);
    let mut buf = [0u8; 4];
    assert_eq!(
        unsafe { tk_caam_random(ctx, buf.as_mut_ptr(), 4) },
        TK_E_NOT_INIT
    );
}
