//! The TEE backend and the STM32MP1 backend (whose blobs are TEE blobs):
//! known answers from trusted-core's independent Python vectors, and the
//! two backends opening each other's blobs.

mod common;

use std::ptr::null;

use common::*;
use trusted_core::test_util::{section, vectors};
use trusted_keys_ffi::*;

const VECTORS: &str = include_str!("../../trusted-core/tests/vectors/vectors.txt");

fn tee(board: &Board, huk: [u8; 16]) -> *mut TeeCtx {
    let ctx = new_ctx::<TeeCtx>();
    assert_eq!(unsafe { tk_tee_init(ctx, &tee_config(board, huk)) }, TK_OK);
    ctx
}

#[test]
fn seal_matches_the_python_vectors_byte_for_byte() {
    let sections = vectors(VECTORS);
    for name in ["tee-1", "tee-2", "tee-3"] {
        let v = section(&sections, name);
        let board = Board::new();
        board.script(&v.bytes("iv"));
        let ctx = tee(&board, v.array("huk"));
        let key = v.bytes("key");
        let (rc, blob, _) = out(TK_MAX_BLOB_SIZE, |b, l| unsafe {
            tk_tee_seal(ctx, key.as_ptr(), key.len(), b, l)
        });
        assert_eq!(rc, TK_OK, "{name}");
        assert_eq!(blob, v.bytes("blob"), "{name}");
        let (rc, back, _) = out(TK_MAX_KEY_SIZE, |k, l| unsafe {
            tk_tee_unseal(ctx, blob.as_ptr(), blob.len(), k, l)
        });
        assert_eq!((rc, back), (TK_OK, key), "{name}");
        assert_eq!(unsafe { tk_tee_deinit(ctx) }, TK_OK);
    }
}

#[test]
fn wrong_huk_fails_authentication_and_zeroes_the_key() {
    let v = section(&vectors(VECTORS), "tee-1").clone();
    let board = Board::new();
    let ctx = tee(&board, [1; 16]);
    let blob = v.bytes("blob");
    let (rc, key, len) = out(TK_MAX_KEY_SIZE, |k, l| unsafe {
        tk_tee_unseal(ctx, blob.as_ptr(), blob.len(), k, l)
    });
    assert_eq!((rc, len), (TK_E_AUTH, 0));
    assert!(key.iter().all(|&b| b == 0));
    assert_eq!(unsafe { tk_tee_deinit(ctx) }, TK_OK);
}

#[test]
fn tee_init_checks_its_config() {
    let board = Board::new();
    let ctx = new_ctx::<TeeCtx>();
    let good = tee_config(&board, [0; 16]);
    let mut future = good;
    future.version = 2;
    assert_eq!(unsafe { tk_tee_init(ctx, &future) }, TK_E_CONFIG_VERSION);
    let mut no_rng = good;
    no_rng.platform.random = None;
    assert_eq!(unsafe { tk_tee_init(ctx, &no_rng) }, TK_E_NULL);
    assert_eq!(unsafe { tk_tee_init(ctx, null()) }, TK_E_NULL);
    assert_eq!(unsafe { tk_tee_init(ctx, &good) }, TK_OK);
    assert_eq!(unsafe { tk_tee_init(ctx, &good) }, TK_E_BUSY);
    // No device behind the TEE backend: a second context is fine.
    let other = new_ctx::<TeeCtx>();
    assert_eq!(unsafe { tk_tee_init(other, &good) }, TK_OK);
    assert_eq!(unsafe { tk_tee_deinit(other) }, TK_OK);
    assert_eq!(unsafe { tk_tee_deinit(ctx) }, TK_OK);
}

fn stm32mp1(board: &Board, cfg: &Stm32mp1Config) -> (i32, *mut Stm32mp1Ctx) {
    let ctx = new_ctx::<Stm32mp1Ctx>();
    let _ = board;
    (unsafe { tk_stm32mp1_init(ctx, cfg) }, ctx)
}

#[test]
fn stm32mp1_huk_is_the_otp_words_and_its_blobs_are_tee_blobs() {
    let _lock = device_lock();
    let board = Board::new();
    let (rc, ctx) = stm32mp1(&board, &stm32mp1_config(&board));
    assert_eq!(rc, TK_OK);
    let (rc, huk, _) = out(16, |h, l| unsafe { tk_stm32mp1_huk(ctx, h, l) });
    assert_eq!(rc, TK_OK);
    // BSEC_KEY mode: the four words, little-endian, as the model burnt them.
    assert_eq!(huk, b"stm32mp1-testhuk");
    let key = [0x11u8; 64];
    let (rc, blob, len) = out(TK_MAX_BLOB_SIZE, |b, l| unsafe {
        tk_stm32mp1_seal(ctx, key.as_ptr(), key.len(), b, l)
    });
    assert_eq!((rc, len), (TK_OK, 64 + TK_TEE_BLOB_OVERHEAD));
    assert_eq!(unsafe { tk_stm32mp1_deinit(ctx) }, TK_OK);

    let tee = tee(&board, huk.try_into().unwrap());
    let (rc, back, _) = out(TK_MAX_KEY_SIZE, |k, l| unsafe {
        tk_tee_unseal(tee, blob.as_ptr(), blob.len(), k, l)
    });
    assert_eq!((rc, back.as_slice()), (TK_OK, &key[..]));
    assert_eq!(unsafe { tk_tee_deinit(tee) }, TK_OK);
}

#[test]
fn stm32mp1_derive_uid_mode_gives_another_huk() {
    let _lock = device_lock();
    let board = Board::new();
    let mut cfg = stm32mp1_config(&board);
    cfg.huk_mode = TK_STM32MP1_HUK_DERIVE_UID;
    let (rc, ctx) = stm32mp1(&board, &cfg);
    assert_eq!(rc, TK_OK);
    let (rc, huk, _) = out(16, |h, l| unsafe { tk_stm32mp1_huk(ctx, h, l) });
    assert_eq!(rc, TK_OK);
    assert_ne!(huk, b"stm32mp1-testhuk");
    assert_eq!(unsafe { tk_stm32mp1_deinit(ctx) }, TK_OK);
}

#[test]
fn stm32mp1_rejects_bad_words_modes_and_unlocked_words_when_asked() {
    let _lock = device_lock();
    let board = Board::new();
    let good = stm32mp1_config(&board);
    for (what, cfg) in [
        (
            "word 96",
            Stm32mp1Config {
                huk_words: [60, 61, 62, 96],
                ..good
            },
        ),
        (
            "repeated word",
            Stm32mp1Config {
                huk_words: [60, 61, 61, 63],
                ..good
            },
        ),
        (
            "uid word 200",
            Stm32mp1Config {
                uid_words: [13, 14, 200],
                ..good
            },
        ),
        (
            "mode",
            Stm32mp1Config {
                huk_mode: 9,
                ..good
            },
        ),
        (
            "flags",
            Stm32mp1Config {
                flags: 0x80,
                ..good
            },
        ),
        (
            "reserved",
            Stm32mp1Config {
                reserved: 1,
                ..good
            },
        ),
    ] {
        assert_eq!(stm32mp1(&board, &cfg).0, TK_E_INVALID_ARG, "{what}");
    }
    let (rc, ctx) = stm32mp1(
        &board,
        &Stm32mp1Config {
            flags: TK_STM32MP1_REQUIRE_LOCKED,
            ..good
        },
    );
    assert_eq!(rc, TK_OK);
    let (rc, _, _) = out(16, |h, l| unsafe { tk_stm32mp1_huk(ctx, h, l) });
    assert_eq!(rc, TK_E_INSECURE, "the model's HUK words are not locked");
    assert_eq!(unsafe { tk_stm32mp1_deinit(ctx) }, TK_OK);
    let (rc, ctx) = stm32mp1(
        &board,
        &Stm32mp1Config {
            huk_words: [70, 71, 72, 73],
            ..good
        },
    );
    assert_eq!(rc, TK_OK);
    let key = [1u8; 32];
    let (rc, _, _) = out(TK_MAX_BLOB_SIZE, |b, l| unsafe {
        tk_stm32mp1_seal(ctx, key.as_ptr(), key.len(), b, l)
    });
    assert_eq!(rc, TK_OK, "the model burns whichever words are configured");
    assert_eq!(unsafe { tk_stm32mp1_deinit(ctx) }, TK_OK);
}

#[test]
fn key_wipe_zeroes_and_checks_null() {
    let mut key = [0xffu8; 40];
    assert_eq!(
        unsafe { tk_key_wipe(key.as_mut_ptr().cast(), key.len()) },
        TK_OK
    );
    assert_eq!(key, [0; 40]);
    assert_eq!(unsafe { tk_key_wipe(std::ptr::null_mut(), 4) }, TK_E_NULL);
    assert_eq!(unsafe { tk_key_wipe(std::ptr::null_mut(), 0) }, TK_OK);
    assert_eq!(tk_abi_version(), TK_ABI_VERSION);
}
