//! A busy-wait `DelayNs` for boards without a timer driver at hand.

use trusted_core::embedded_hal::delay::DelayNs;

/// An **approximate** delay: spins `ns * cpu_mhz / 1000` loop iterations.
///
/// Each iteration takes at least one core cycle, so the wait is never
/// shorter than asked while the core runs at or below `cpu_mhz`; it is
/// usually several times longer (caches off, branch costs). Good enough for
/// driver time-outs (an upper bound on waiting for hardware); use the SoC's
/// timer (i.MX GPT, ARM generic timer) where time must be accurate.
#[derive(Clone, Copy, Debug)]
pub struct SpinDelay {
    cpu_mhz: u32,
}

impl SpinDelay {
    /// A delay for a core clocked at (at most) `cpu_mhz` MHz.
    pub const fn new(cpu_mhz: u32) -> Self {
        Self { cpu_mhz }
    }
}

impl DelayNs for SpinDelay {
    fn delay_ns(&mut self, ns: u32) {
        // `ns * cpu_mhz / 1000` in u32 steps (exact, saturating): a u64
        // division would link a 64-bit divide routine on 32-bit cores.
        let mhz = self.cpu_mhz;
        let spins = (ns / 1000)
            .saturating_mul(mhz)
            .saturating_add((ns % 1000).saturating_mul(mhz) / 1000);
        for _ in 0..spins.max(1) {
            core::hint::spin_loop();
        }
    }
}

/// A delay that returns at once, for sim builds: the models complete
/// their work at once, so a wait is a count of polls. Never on hardware.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoDelay;

impl DelayNs for NoDelay {
    fn delay_ns(&mut self, _ns: u32) {}
}
