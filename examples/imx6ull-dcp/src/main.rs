//! i.MX6ULL firmware: the bootloader flow on the DCP (`board_rt::boot_flow`:
//! twice across an in-process reboot under QEMU, once in the `hw` build).
//!
//! 1. Linux `trusted.source=dcp` blob (`DcpSource`, UNIQUE key); the DCP has
//!    no RNG, so the key, blob key and nonce come from the caller's RNG:
//!    the SoC's RNGB through `hal_dcp::Rngb`.
//! 2. Linux `trusted.source=tee` blob over OP-TEE's DCP HUK (`DcpHuk`), the
//!    sealer's key and IV from the same RNGB.
//!
//! Feature `sim` (default, for QEMU's `mcimx6ul-evk`, which models neither
//! block): the DCP model from `hal_dcp::sim` is the `Mmio`, with a demo
//! UNIQUE key, and the RNGB model (`RngbSim`) stands in for the RNGB.
//! Feature `hw`: the DCP registers at 0x0228_0000, the RNGB at 0x0228_4000.
//!
//! `DcpHuk` sets the sticky `CAPABILITY0.DISABLE_UNIQUE_KEY` (as OP-TEE
//! does), so the HUK can be derived once per reset: the `hw` build runs
//! each flow once, as a bootloader does (and, when it also makes
//! `trusted_dcp` blobs after the HUK, seals those with `SealingKey::Otp`);
//! the QEMU build's "reboot" makes a new model, as a reset clears the bit.
#![no_std]
#![no_main]

#[cfg(all(feature = "sim", feature = "hw"))]
compile_error!("enable only one of the features `sim` and `hw`");
#[cfg(not(any(feature = "sim", feature = "hw")))]
compile_error!("enable one of the features `sim` (QEMU) and `hw` (i.MX6ULL)");

use board_rt::{boot_flow, dma_buffer, finish, step};
use hal_dcp::{Dcp, DcpHuk, DcpSource};
use trusted_core::flow::FlowOptions;
use trusted_core::tee::TeeSealer;
use trusted_core::{Error, NoCache, RngChoice, Shared, StaticDma};

#[cfg(feature = "sim")]
mod board {
    //! The DCP model in place of the block; a reset makes a new model, as a
    //! power cycle does (keys from fuses, DISABLE_UNIQUE_KEY clear). The
    //! RNGB model in place of the RNGB.
    use hal_dcp::Rngb;
    use hal_dcp::sim::{DcpSim, RngbSim};
    use trusted_core::StaticDma;

    /// The model, its stack use kept out of the figures (`board_rt::stack::Model`).
    pub type Mmio = board_rt::stack::Model<DcpSim>;

    /// The model completes its work at once.
    pub use board_rt::NoDelay;

    pub type Delay = NoDelay;

    /// A public test key standing in for the part's fused UNIQUE key.
    const UNIQUE_KEY: [u8; 16] = *b"imx6ull-demo-key";

    pub fn dcp_mmio(dma: &StaticDma) -> Mmio {
        board_rt::stack::Model(DcpSim::new(dma.bus()).with_unique_key(UNIQUE_KEY))
    }

    pub fn delay() -> Delay {
        NoDelay
    }

    pub type Trng = Rngb<RngbSim, Delay>;

    /// The model's output is a function of this seed (SplitMix64): a model
    /// of the RNGB's behaviour, not entropy. Each example has its own.
    const RNG_SEED: u64 = 0x6011_dc90_0000_0001;

    pub fn trng() -> Trng {
        Rngb::new(RngbSim::new().with_seed(RNG_SEED), NoDelay)
    }
}

#[cfg(feature = "hw")]
mod board {
    //! The i.MX6ULL DCP. Before this runs: ungate its clock (CCM_CCGR0
    //! CG5), and with caches on give `StaticDma` a `CacheOps` instead of
    //! `NoCache` (the examples run with MMU and caches off).
    use board_rt::SpinDelay;
    use hal_dcp::Rngb;
    use hal_dcp::regs::rngb;
    use trusted_core::{StaticDma, VolatileMmio};

    pub type Mmio = VolatileMmio;
    pub type Delay = SpinDelay;

    /// DCP base on i.MX6ULL (reference manual memory map; OP-TEE imx6-dcp.h).
    const DCP_BASE: usize = 0x0228_0000;

    pub fn dcp_mmio(_dma: &StaticDma) -> Mmio {
        // SAFETY: the i.MX6ULL DCP register block, device memory with the
        // MMU off; this firmware runs one driver on it at a time (each
        // boot drops the previous one first).
        unsafe { VolatileMmio::new(DCP_BASE, hal_dcp::regs::BLOCK_SIZE) }
    }

    /// Cortex-A7 of the i.MX6ULL at up to 900 MHz.
    pub fn delay() -> Delay {
        SpinDelay::new(900)
    }

    pub type Trng = Rngb<VolatileMmio, Delay>;

    /// The RNGB (DT `rng@2284000`; its clock has no gate to open).
    pub fn trng() -> Trng {
        // SAFETY: the i.MX6ULL RNGB register block, device memory with the
        // MMU off; this is the only driver on it.
        let mmio = unsafe { VolatileMmio::new(rngb::BASE_IMX6ULL, rngb::BLOCK_SIZE) };
        Rngb::new(mmio, delay())
    }
}

type DcpDriver = Dcp<board::Mmio, StaticDma, board::Delay>;

/// A DCP driver as after reset, on a fresh DMA buffer from the pool.
fn dcp() -> Result<DcpDriver, Error> {
    let buffer = dma_buffer().ok_or(Error::BufferTooSmall)?;
    // MMU off: the bus address is the buffer's address.
    let bus = buffer.as_ptr() as u64;
    let dma = StaticDma::new(buffer, bus, NoCache);
    let mmio = board::dcp_mmio(&dma);
    Ok(Dcp::new(mmio, dma, board::delay())?)
}

/// The one RNGB, lent to whoever draws next: the flow (new keys),
/// `DcpSource` (blob key and nonce) and the TEE sealer (key and IV) share
/// it, as they share the one TRNG of a board.
struct Lent<'a>(&'a Shared<board::Trng>);

impl Lent<'_> {
    /// The RNGB's `fill` (which zeroes `dst` when it fails), inside the
    /// share's critical section.
    fn fill(&mut self, dst: &mut [u8]) -> Result<(), Error> {
        Ok(self.0.with(|rngb| rngb.fill(dst))??)
    }
}

trusted_core::impl_try_rng_via_fill! {
    impl TryRng for Lent<'_> {
        type Error = Error;
    }
}

/// The RNGB's output, handed on unchanged.
impl rand_core::TryCryptoRng for Lent<'_> {}

#[unsafe(no_mangle)]
extern "C" fn main() -> ! {
    step!(
        "imx6ull-dcp: i.MX6ULL DCP, ",
        if cfg!(feature = "sim") {
            "DCP model (sim)"
        } else {
            "hardware"
        }
    );

    // Set up once per reset; the QEMU build's in-process "reboot" makes the
    // DCP drivers again but keeps the RNGB ready.
    let mut trng = board::trng();
    if let Err(e) = trng.init() {
        finish("imx6ull-dcp", Err::<usize, _>(e));
    }
    step!("RNGB: self test passed, seeded");
    let trng = Shared::new(trng);

    step!("== Linux trusted_dcp blob (DcpSource, UNIQUE key) ==");
    let dcp_result = boot_flow(
        || Ok(DcpSource::new(dcp()?, Lent(&trng))),
        &mut Lent(&trng),
        &FlowOptions::new(RngChoice::Caller),
    );
    match dcp_result {
        Ok(len) => step!("dcp blob: PASS (", len, " bytes)"),
        Err(_) => finish("imx6ull-dcp", dcp_result),
    }

    step!("== TEE blob over OP-TEE's DCP HUK (TeeSealer<DcpHuk>) ==");
    let tee_result = boot_flow(
        || Ok(TeeSealer::new(DcpHuk::new(dcp()?), Lent(&trng))),
        // Never asked (`RngChoice::Source`); the same type as above, so
        // both boots share one instance of the flow.
        &mut Lent(&trng),
        &FlowOptions::new(RngChoice::Source),
    );
    if let Ok(len) = tee_result {
        step!("tee blob (DCP HUK): PASS (", len, " bytes)");
    }
    finish("imx6ull-dcp", tee_result)
}
