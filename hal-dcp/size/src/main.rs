//! Size probe: `seal` + `unseal` of `DcpSource` over `VolatileMmio` on armv7a,
//! opt-level "z", LTO. Build with and without `--features ops`; the .text
//! difference is what seal + unseal (with init and the zero-key test) cost.
#![no_std]
#![no_main]
use core::hint::black_box;
use hal_dcp::{Dcp, DcpSource};
#[cfg(feature = "ops")]
use trusted_core::TrustSource;
use trusted_core::embedded_hal::delay::DelayNs;
use trusted_core::{Key, NoCache, StaticDma, VolatileMmio};

static mut BUF: [u8; 1024] = [0; 1024];

struct Delay;
impl DelayNs for Delay {
    fn delay_ns(&mut self, ns: u32) {
        black_box(ns);
    }
}

struct Rng;
impl rand_core::TryRng for Rng {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(black_box(0))
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(black_box(0))
    }
    fn try_fill_bytes(&mut self, d: &mut [u8]) -> Result<(), Self::Error> {
        d.iter_mut().for_each(|b| *b = black_box(0x5a));
        Ok(())
    }
}
impl rand_core::TryCryptoRng for Rng {}

#[unsafe(no_mangle)]
pub extern "C" fn _start() -> ! {
    // SAFETY: i.MX6ULL DCP register block; this probe is never run, only sized.
    let mmio = unsafe { VolatileMmio::new(0x0228_0000, hal_dcp::regs::BLOCK_SIZE) };
    // SAFETY: the only reference ever taken to BUF.
    let buf: &'static mut [u8] = unsafe { &mut *core::ptr::addr_of_mut!(BUF) };
    let addr = buf.as_ptr() as u64;
    let dma = StaticDma::new(buf, addr, NoCache);
    let Ok(dcp) = Dcp::new(mmio, dma, Delay) else {
        loop {}
    };
    let mut src = DcpSource::new(dcp, Rng);
    black_box(&mut src);
    #[cfg(feature = "ops")]
    {
        let Ok(key) = Key::from_slice(black_box(&[7u8; 32])) else {
            loop {}
        };
        let blob = src.seal(&key, "");
        black_box(&blob);
        if let Ok(blob) = blob {
            black_box(src.unseal(black_box(blob.as_bytes()), "").is_ok());
        }
    }
    let _ = Key::from_slice;
    loop {}
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}
