//! The TPM backend through its C ABI: the SPI and chip-select callbacks
//! drive the TIS-over-SPI model, and swtpm executes the TPM 2.0 commands
//! (as the hal-tpm-spi tests do). Needs swtpm; fails, never skips, without.

mod common;

use std::cell::RefCell;
use std::ffi::{CString, c_void};
use std::ptr::null;

use common::*;
use hal_tpm_spi::sim::swtpm::{SwtpmBackend, SwtpmProcess};
use hal_tpm_spi::sim::{SimCs, SimSpi, TpmSim};
use hal_tpm_spi::spec::SRK_HANDLE;
use hal_tpm_spi::{SpiTis, Tis, TpmSource};
use trusted_core::test_util::{NoDelay, ScriptRng};
use trusted_keys_ffi::*;

/// `user` of every callback: the `Board` first, so its callbacks work.
#[repr(C)]
struct TpmBoard {
    board: Board,
    tpm: RefCell<TpmSim<SwtpmBackend>>,
    spi_fails: RefCell<bool>,
}

fn tpm_board(user: *mut c_void) -> &'static TpmBoard {
    // SAFETY: the TPM configs here pass a leaked `TpmBoard`.
    unsafe { &*user.cast::<TpmBoard>() }
}

unsafe extern "C" fn spi_transfer(
    user: *mut c_void,
    tx: *const u8,
    rx: *mut u8,
    len: usize,
) -> i32 {
    let b = tpm_board(user);
    if *b.spi_fails.borrow() {
        return -5;
    }
    let mut tpm = b.tpm.borrow_mut();
    for i in 0..len {
        // SAFETY: the library passes NULL or `len` valid bytes.
        let mosi = if tx.is_null() {
            0
        } else {
            unsafe { *tx.add(i) }
        };
        let miso = tpm.clock(mosi);
        if !rx.is_null() {
            // SAFETY: as above.
            unsafe { *rx.add(i) = miso };
        }
    }
    0
}

unsafe extern "C" fn chip_select(user: *mut c_void, active: bool) -> i32 {
    tpm_board(user).tpm.borrow_mut().set_cs(active);
    0
}

/// swtpm with the SRK at 0x81000001, made through the Rust API, and the
/// board the C callbacks use.
#[allow(
    clippy::unwrap_used,
    reason = "no swtpm fails the test, never skips it"
)]
fn setup() -> (SwtpmProcess, &'static TpmBoard) {
    let swtpm = SwtpmProcess::start()
        .map_err(|e| format!("swtpm needed: {e} (apt-get install swtpm swtpm-tools)"))
        .unwrap();
    let board: &'static TpmBoard = Box::leak(Box::new(TpmBoard {
        board: Board::default(),
        tpm: RefCell::new(TpmSim::new(swtpm.connect().unwrap())),
        spi_fails: RefCell::new(false),
    }));
    let tis = Tis::new(SpiTis::new(SimSpi(&board.tpm), SimCs(&board.tpm)), NoDelay);
    let mut rust = TpmSource::new(tis, ScriptRng::counting(1));
    rust.provision_srk(SRK_HANDLE).unwrap();
    (swtpm, board)
}

fn config(b: &TpmBoard) -> TpmConfig {
    TpmConfig {
        size: size_of::<TpmConfig>() as u32,
        version: TK_CONFIG_VERSION,
        platform: b.board.platform(),
        spi_transfer: Some(spi_transfer),
        chip_select: Some(chip_select),
        locality: 0,
        srk_handle: 0,
        srk_name: null(),
        srk_name_len: 0,
    }
}

fn init(cfg: &TpmConfig) -> (i32, *mut TpmCtx) {
    let ctx = new_ctx::<TpmCtx>();
    (unsafe { tk_tpm_init(ctx, cfg) }, ctx)
}

fn seal(ctx: *mut TpmCtx, key: &[u8], options: &CString) -> (i32, Vec<u8>, usize) {
    out(TK_MAX_BLOB_SIZE, |b, l| unsafe {
        tk_tpm_seal(ctx, key.as_ptr(), key.len(), options.as_ptr(), b, l)
    })
}

fn unseal(ctx: *mut TpmCtx, blob: &[u8]) -> (i32, Vec<u8>, usize) {
    out(TK_MAX_KEY_SIZE, |k, l| unsafe {
        tk_tpm_unseal(ctx, blob.as_ptr(), blob.len(), null(), k, l)
    })
}

#[test]
fn seal_reboot_unseal_and_random_through_the_callbacks() {
    let _lock = device_lock();
    let (_swtpm, b) = setup();
    let (rc, ctx) = init(&config(b));
    assert_eq!(rc, TK_OK);
    let mut key = [0u8; 32];
    assert_eq!(unsafe { tk_tpm_random(ctx, key.as_mut_ptr(), 32) }, TK_OK);
    assert_ne!(key, [0; 32]);
    let options = CString::new("keyhandle=0x81000001").unwrap();
    let (rc, blob, _) = seal(ctx, &key, &options);
    assert_eq!(rc, TK_OK);
    assert_eq!(blob[0], 0x30, "DER TPMKey");
    assert_eq!(unsafe { tk_tpm_deinit(ctx) }, TK_OK);
    let (rc, ctx) = init(&config(b));
    assert_eq!(rc, TK_OK);
    let (rc, back, _) = unseal(ctx, &blob);
    assert_eq!((rc, back), (TK_OK, key.to_vec()));
    assert_eq!(unsafe { tk_tpm_deinit(ctx) }, TK_OK);
}

#[test]
fn options_are_checked_as_linux_does() {
    let _lock = device_lock();
    let (_swtpm, b) = setup();
    let (rc, ctx) = init(&config(b));
    assert_eq!(rc, TK_OK);
    let key = [3u8; 32];
    let none = CString::new("").unwrap();
    assert_eq!(
        seal(ctx, &key, &none).0,
        TK_E_OPTIONS,
        "keyhandle= is required"
    );
    let bad = CString::new("keyhandle=0x81000001 bogus=1").unwrap();
    assert_eq!(seal(ctx, &key, &bad).0, TK_E_OPTIONS);
    let long = CString::new("a".repeat(TK_MAX_OPTIONS_LEN + 1)).unwrap();
    assert_eq!(seal(ctx, &key, &long).0, TK_E_INVALID_ARG);
    let not_utf8 = CString::new(vec![b'k', 0xff, b'=']).unwrap();
    assert_eq!(seal(ctx, &key, &not_utf8).0, TK_E_INVALID_ARG);
    assert_eq!(unsafe { tk_tpm_deinit(ctx) }, TK_OK);
}

#[test]
fn bus_failures_and_bad_configs_have_their_codes() {
    let _lock = device_lock();
    let (_swtpm, b) = setup();
    let good = config(b);
    for (what, cfg, code) in [
        (
            "no spi",
            TpmConfig {
                spi_transfer: None,
                ..good
            },
            TK_E_NULL,
        ),
        (
            "no cs",
            TpmConfig {
                chip_select: None,
                ..good
            },
            TK_E_NULL,
        ),
        (
            "no rng",
            TpmConfig {
                platform: Platform {
                    random: None,
                    ..good.platform
                },
                ..good
            },
            TK_E_NULL,
        ),
        (
            "locality 5",
            TpmConfig {
                locality: 5,
                ..good
            },
            TK_E_INVALID_ARG,
        ),
        (
            "name length",
            TpmConfig {
                srk_name: [0u8; 4].as_ptr(),
                srk_name_len: 4,
                ..good
            },
            TK_E_INVALID_ARG,
        ),
        (
            "future",
            TpmConfig { version: 2, ..good },
            TK_E_CONFIG_VERSION,
        ),
    ] {
        assert_eq!(init(&cfg).0, code, "{what}");
    }
    *b.spi_fails.borrow_mut() = true;
    assert_eq!(init(&good).0, TK_E_TRANSPORT, "an SPI callback error");
    *b.spi_fails.borrow_mut() = false;

    // A pinned SRK Name that is not this TPM's: nothing is salted to it.
    let mut wrong = [0u8; TK_TPM_NAME_SIZE];
    wrong[1] = 0x0b;
    let pinned = TpmConfig {
        srk_name: wrong.as_ptr(),
        srk_name_len: wrong.len(),
        ..good
    };
    let (rc, ctx) = init(&pinned);
    assert_eq!(rc, TK_OK);
    let options = CString::new("keyhandle=0x81000001").unwrap();
    let (rc, _, _) = seal(ctx, &[1; 32], &options);
    assert_eq!(
        rc, TK_E_INSECURE,
        "storage key differs from the pinned Name"
    );
    let (rc, ctx2) = init(&good);
    assert_eq!((rc, ctx2.is_null()), (TK_E_BUSY, false), "the TPM is held");
    assert_eq!(unsafe { tk_tpm_deinit(ctx) }, TK_OK);
}
