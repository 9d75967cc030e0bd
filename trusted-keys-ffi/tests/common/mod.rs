//! What a C caller provides, written in Rust: callbacks, DMA memory and
//! configs, for tests that call the extern "C" functions as C does.
#![allow(dead_code)]

use std::cell::RefCell;
use std::collections::VecDeque;
use std::ffi::c_void;
use std::sync::{Mutex, MutexGuard};

use trusted_keys_ffi::*;

/// Devices are claimed per process: tests that init one run one at a time.
pub fn device_lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// What the callbacks see through `user`.
#[derive(Default)]
pub struct Board {
    /// Bytes the RNG hands out first (then a counter).
    pub script: RefCell<VecDeque<u8>>,
    pub counter: RefCell<u8>,
    pub rng_fails: RefCell<bool>,
    pub delays_us: RefCell<u64>,
    pub cleaned: RefCell<usize>,
    pub invalidated: RefCell<usize>,
    /// Run inside the RNG callback (re-entrancy tests).
    pub in_rng: RefCell<Option<Box<dyn FnMut()>>>,
}

impl Board {
    pub fn new() -> Box<Self> {
        Box::default()
    }

    pub fn user(&self) -> *mut c_void {
        (self as *const Self).cast_mut().cast()
    }

    pub fn script(&self, bytes: &[u8]) {
        self.script.borrow_mut().extend(bytes.iter().copied());
    }

    pub fn platform(&self) -> Platform {
        Platform {
            user: self.user(),
            delay_us: Some(delay_us),
            random: Some(random),
        }
    }
}

fn board<'a>(user: *mut c_void) -> &'a Board {
    // SAFETY: every config in these tests passes a live `Board` as user.
    unsafe { &*user.cast::<Board>() }
}

pub unsafe extern "C" fn delay_us(user: *mut c_void, us: u32) {
    *board(user).delays_us.borrow_mut() += u64::from(us);
}

pub unsafe extern "C" fn random(user: *mut c_void, buf: *mut u8, len: usize) -> i32 {
    let b = board(user);
    if let Some(f) = b.in_rng.borrow_mut().as_mut() {
        f();
    }
    if *b.rng_fails.borrow() {
        return -1;
    }
    // SAFETY: the library passes a writable buffer of `len` bytes.
    let out = unsafe { std::slice::from_raw_parts_mut(buf, len) };
    for byte in out {
        *byte = match b.script.borrow_mut().pop_front() {
            Some(v) => v,
            None => {
                let mut c = b.counter.borrow_mut();
                *c = c.wrapping_add(1);
                *c
            }
        };
    }
    0
}

pub unsafe extern "C" fn clean(user: *mut c_void, _addr: usize, len: usize) {
    *board(user).cleaned.borrow_mut() += len;
}

pub unsafe extern "C" fn invalidate(user: *mut c_void, _addr: usize, len: usize) {
    *board(user).invalidated.borrow_mut() += len;
}

/// A 64-byte aligned, leaked DMA buffer of `len` bytes (+ slack for
/// misalignment tests), with its bus address equal to its CPU address
/// truncated below 4 GiB, as a 32-bit engine sees it.
pub fn dma(len: usize) -> Dma {
    #[repr(C, align(64))]
    struct Block([u8; 64]);
    let blocks = len.div_ceil(64) + 1;
    let mem: &'static mut [Block] = Box::leak(
        (0..blocks)
            .map(|_| Block([0; 64]))
            .collect::<Vec<_>>()
            .into_boxed_slice(),
    );
    let cpu = mem.as_mut_ptr().cast::<c_void>();
    Dma {
        cpu,
        len,
        bus: 0x8000_0000,
        clean: Some(clean),
        invalidate: Some(invalidate),
    }
}

/// Ctx storage as C declares it (static, zeroed): leaked so tests may
/// keep raw pointers.
pub fn new_ctx<T>() -> *mut T {
    let layout = std::alloc::Layout::new::<T>();
    // SAFETY: non-zero size; zeroed memory is the documented initial state.
    unsafe { std::alloc::alloc_zeroed(layout).cast::<T>() }
}

/// A config struct as C fills one: `size` and `version` (the header every
/// config starts with), then the given fields.
macro_rules! versioned {
    ($ty:ident { $($field:ident $(: $value:expr)?),* $(,)? }) => {
        $ty {
            size: size_of::<$ty>() as u32,
            version: TK_CONFIG_VERSION,
            $($field $(: $value)?),*
        }
    };
}

pub fn dcp_config(board: &Board) -> DcpConfig {
    versioned!(DcpConfig {
        regs: 0x0228_0000 as *mut c_void,
        dma: dma(1024),
        platform: board.platform(),
        sealing_key: TK_DCP_KEY_UNIQUE,
    })
}

pub fn rngb_config(board: &Board) -> RngbConfig {
    versioned!(RngbConfig {
        regs: TK_RNGB_BASE_IMX6ULL as *mut c_void,
        platform: board.platform(),
    })
}

pub fn caam_config(board: &Board) -> CaamConfig {
    versioned!(CaamConfig {
        regs: 0x3090_0000 as *mut c_void,
        dma: dma(2048),
        platform: board.platform(),
        job_ring: 0,
        page_size: 0,
        keymod: std::ptr::null(),
        keymod_len: 0,
        flags: 0,
    })
}

pub fn stm32mp1_config(board: &Board) -> Stm32mp1Config {
    versioned!(Stm32mp1Config {
        regs: 0x5C00_5000 as *mut c_void,
        platform: board.platform(),
        huk_words: [60, 61, 62, 63],
        uid_words: [13, 14, 15],
        reserved: 0,
        huk_mode: TK_STM32MP1_HUK_BSEC_KEY,
        flags: 0,
    })
}

pub fn tee_config(board: &Board, huk: [u8; 16]) -> TeeConfig {
    versioned!(TeeConfig {
        platform: board.platform(),
        huk,
    })
}

/// The output of a `tk_*_seal`/`unseal`/`huk`: code and bytes.
#[allow(
    clippy::expect_used,
    reason = "a length past the buffer fails the test"
)]
pub fn out(capacity: usize, f: impl FnOnce(*mut u8, *mut usize) -> i32) -> (i32, Vec<u8>, usize) {
    let mut buf = vec![0xA5u8; capacity.max(1)];
    let mut len = capacity;
    let rc = f(buf.as_mut_ptr(), &mut len);
    buf.truncate(capacity);
    let written = if rc == TK_OK {
        buf.get(..len)
            .expect("the library wrote *len <= capacity")
            .to_vec()
    } else {
        buf
    };
    (rc, written, len)
}
