//! The hardware seams: volatile MMIO, the DMA region and its bus view,
//! bounded polling.

use embedded_hal::delay::DelayNs;
use trusted_core::poll::{Budget, poll_until};
use trusted_core::{DmaRegion, Error, Mmio, RegisterFile, VolatileMmio};

/// Counts the time the code under test asked to sleep.
#[derive(Default)]
struct FakeClock {
    slept_ns: u64,
}

impl DelayNs for FakeClock {
    fn delay_ns(&mut self, ns: u32) {
        self.slept_ns += u64::from(ns);
    }
}

#[test]
fn volatile_mmio_reads_back_and_ignores_out_of_block_accesses() {
    let block: &'static mut [u32] = Box::leak(vec![0u32; 4].into_boxed_slice());
    let base = block.as_mut_ptr() as usize;
    // SAFETY: `block` is a leaked, 4-byte aligned 16-byte buffer nobody else uses.
    let mut mmio = unsafe { VolatileMmio::new(base, 16) };
    mmio.write32(4, 0xdead_beef);
    assert_eq!(mmio.read32(4), 0xdead_beef);
    mmio.write32(16, 1); // past the end: dropped
    mmio.write32(2, 1); // unaligned: dropped
    assert_eq!(mmio.read32(16), 0);
    assert_eq!(mmio.read32(2), 0);
    assert_eq!(mmio.read32(0), 0);
}

#[test]
fn register_file_is_plain_storage() {
    let mut regs = RegisterFile::<4>::default();
    regs.write32(12, 7);
    regs.write32(400, 9);
    assert_eq!(regs.words, [0, 0, 0, 7]);
    assert_eq!(regs.read32(400), 0);
}

#[test]
fn dma_region_and_bus_see_the_same_memory_at_their_addresses() {
    let mut dma = trusted_core::test_util::leaked_dma(64, 0x9000_0000);
    let bus = dma.bus();
    dma.write(8, &[1, 2, 3, 4]).unwrap();
    assert_eq!(bus.read_u32_le(0x9000_0008).unwrap(), 0x0403_0201);
    bus.write(0x9000_0030, b"out").unwrap();
    let mut out = [0u8; 3];
    dma.read(0x30, &mut out).unwrap();
    assert_eq!(&out, b"out");
    // Outside the region: the CPU side gets BufferTooSmall, the bus a bus error.
    assert_eq!(dma.write(62, &[0; 4]), Err(Error::BufferTooSmall));
    assert_eq!(bus.read(0x8fff_ffff, &mut out), Err(Error::Transport));
    assert_eq!(bus.read(0x9000_003e, &mut out), Err(Error::Transport));
    assert!(!bus.contains(u64::MAX, 2));
    dma.zero().unwrap();
    let mut all = [0xffu8; 64];
    dma.read(0, &mut all).unwrap();
    assert!(all.iter().all(|&b| b == 0));
}

#[test]
fn poll_until_returns_when_ready_and_times_out_within_budget() {
    let mut clock = FakeClock::default();
    let mut polls = 0;
    poll_until(&mut clock, Budget::fixed(1000, 10), Error::Timeout, || {
        polls += 1;
        Ok(polls == 5)
    })
    .unwrap();
    assert_eq!(clock.slept_ns, 4 * 10_000);

    let mut clock = FakeClock::default();
    assert_eq!(
        poll_until(&mut clock, Budget::fixed(1000, 10), Error::Timeout, || Ok(
            false
        )),
        Err(Error::Timeout)
    );
    assert_eq!(
        clock.slept_ns,
        1000 * 1000,
        "waits exactly the budget, then gives up"
    );

    let mut clock = FakeClock::default();
    assert_eq!(
        poll_until(&mut clock, Budget::fixed(1000, 10), Error::Timeout, || {
            Err(Error::Hardware(3))
        }),
        Err(Error::Hardware(3))
    );
    assert_eq!(clock.slept_ns, 0, "an error status ends the wait at once");
}

#[test]
fn poll_until_backs_off_to_its_ceiling_and_keeps_the_callers_error() {
    #[derive(Debug, PartialEq)]
    enum Wait {
        DataAvail,
    }
    let mut clock = FakeClock::default();
    let mut polls = 0u32;
    let waited = poll_until(
        &mut clock,
        Budget::backoff(1000, 10, 80),
        Wait::DataAvail,
        || {
            polls += 1;
            Ok(false)
        },
    );
    assert_eq!(waited, Err(Wait::DataAvail));
    // 10 + 20 + 40 + 12 * 80 = 1030 µs in 15 sleeps: the first total past the budget ends it.
    assert_eq!(clock.slept_ns, 1_030_000);
    assert_eq!(polls, 16, "doubling steps poll far less than 1000/10 times");
}
