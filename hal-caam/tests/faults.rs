//! Every fault hook of the sim: the right error, a bounded wait (no hang),
//! no panic, the DMA region and output buffers zeroed, and the ring usable
//! again afterwards. Plus ring wrap-around and ring-level error behaviour.

mod common;

use common::*;
use hal_caam::regs::jr;
use hal_caam::sim::Fault;
use hal_caam::{Error as CaamError, JobStatus, KeyMod, Wait};
use trusted_core::test_util::CountingDelay;
use trusted_core::{Error, Mmio, TrustSource};

const KM: KeyMod<'static> = KeyMod::Immediate(b"SECURE_KEY");
const JR0: usize = 0x1000;

fn ready() -> (SimCaam, trusted_core::DmaBus) {
    let (mut caam, bus) = secure_caam();
    assert_eq!(caam.init(), Ok(()));
    assert!(caam.rng_instantiate().is_ok());
    (caam, bus)
}

/// Seals then unseals once, proving the ring works.
fn works(caam: &mut SimCaam) {
    let data = [0x3cu8; 32];
    let mut blob = [0u8; 80];
    assert_eq!(caam.encapsulate(KM, &data, &mut blob), Ok(80));
    let mut back = [0u8; 32];
    assert_eq!(caam.decapsulate(KM, &blob, &mut back), Ok(32));
    assert_eq!(back, data);
}

#[test]
fn error_status_fault_reports_the_status_and_zeroes_buffers() {
    let (mut caam, bus) = ready();
    let data = [0x77u8; 32];
    let mut blob = [0xEEu8; 80];
    caam.regs_mut().inject(Fault::ErrorStatus(0x4000_0016)); // DECO DMA error
    let err = caam.encapsulate(KM, &data, &mut blob).unwrap_err();
    assert_eq!(err, CaamError::Job(JobStatus::decode(0x4000_0016).unwrap()));
    assert_eq!(Error::from(err), Error::Hardware(0x4000_0016));
    assert_eq!(blob, [0u8; 80]);
    assert_dma_zeroed(&bus);
    works(&mut caam);
}

#[test]
fn clear_faults_disarms_a_fault_not_used_yet() {
    let (mut caam, bus) = ready();
    caam.regs_mut().inject(Fault::NoCompletion);
    caam.regs_mut().clear_faults();
    works(&mut caam);
    assert_dma_zeroed(&bus);
}

#[test]
fn injected_icv_status_maps_to_auth_failed_and_zeroes_the_key() {
    let (mut source, bus) = secure_source();
    let key = key(32, 5);
    let blob = source.seal(&key, "").unwrap();
    source
        .driver_mut()
        .regs_mut()
        .inject(Fault::ErrorStatus(0x2000_071A));
    assert_eq!(source.unseal(blob.as_bytes(), ""), Err(Error::AuthFailed));
    assert_dma_zeroed(&bus);
    assert_eq!(source.unseal(blob.as_bytes(), "").unwrap(), key);
}

#[test]
fn no_completion_times_out_after_a_bounded_wait_then_recovers() {
    let (mut caam, bus) = ready();
    let blob_src = {
        let mut b = [0u8; 80];
        caam.encapsulate(KM, &[9; 32], &mut b).unwrap();
        b
    };
    let before = caam.into_inner();
    let (sim, dma, _) = before;
    let mut caam = hal_caam::Caam::new(sim, dma, CountingDelay::default(), config()).unwrap();
    caam.init().unwrap();
    caam.regs_mut().inject(Fault::NoCompletion);
    let mut out = [0xEEu8; 32];
    let err = caam.decapsulate(KM, &blob_src, &mut out).unwrap_err();
    assert_eq!(err, CaamError::Timeout(Wait::Job));
    assert_eq!(Error::from(err), Error::Timeout);
    assert_eq!(out, [0u8; 32]);
    assert_dma_zeroed(&bus);
    // The wait was the configured timeout (10 ms), counted, not spun forever.
    let (sim, dma, delay) = caam.into_inner();
    assert!(
        delay.waited_ns >= 10_000_000 && delay.waited_ns <= 10_100_000,
        "{}",
        delay.waited_ns
    );
    let mut caam = hal_caam::Caam::new(sim, dma, CountingDelay::default(), config()).unwrap();
    caam.init().unwrap();
    let mut back = [0u8; 32];
    caam.decapsulate(KM, &blob_src, &mut back).unwrap();
    assert_eq!(back, [9; 32]);
}

#[test]
fn no_completion_recovers_without_reinit_because_the_driver_resets_the_ring() {
    let (mut caam, bus) = ready();
    caam.regs_mut().inject(Fault::NoCompletion);
    let mut out = [0u8; 32];
    assert_eq!(caam.random(&mut out), Err(CaamError::Timeout(Wait::Job)));
    assert_dma_zeroed(&bus);
    works(&mut caam);
}

#[test]
fn output_ring_overflow_is_a_job_ring_error_and_recovers() {
    let (mut source, bus) = secure_source();
    source.init().unwrap();
    source
        .driver_mut()
        .regs_mut()
        .inject(Fault::OutputRingOverflow);
    let err = source.seal(&key(32, 1), "").unwrap_err();
    // JRINTR: JRE with error type 6 (invalid output-ring write), JRI.
    assert_eq!(err, Error::Hardware(0x0000_0603));
    assert_dma_zeroed(&bus);
    let key = key(48, 2);
    let blob = source.seal(&key, "").unwrap();
    assert_eq!(source.unseal(blob.as_bytes(), "").unwrap(), key);
}

#[test]
fn more_jobs_than_ring_slots_wrap_around() {
    let (mut caam, bus) = ready();
    let slots = u32::from(caam.config().ring_size);
    let start = caam.regs().jobs_completed();
    for round in 0..(3 * slots + 1) {
        let data = [round as u8; 40];
        let mut blob = [0u8; 88];
        caam.encapsulate(KM, &data, &mut blob).unwrap();
        let mut back = [0u8; 40];
        caam.decapsulate(KM, &blob, &mut back).unwrap();
        assert_eq!(back, data);
    }
    let jobs = caam.regs().jobs_completed() - start;
    assert_eq!(jobs, 2 * (3 * slots + 1));
    // The hardware read index has wrapped: jobs mod slots, in bytes.
    let irrir = caam.regs_mut().read32(JR0 + jr::IRRIR);
    let orwir = caam.regs_mut().read32(JR0 + jr::ORWIR);
    let expected = (jobs + 1) % slots; // + the RNG instantiation job
    assert_eq!(irrir, expected * 4);
    assert_eq!(orwir, expected * 8);
    assert_eq!(caam.regs_mut().read32(JR0 + jr::IRSAR), slots);
    assert_eq!(caam.regs_mut().read32(JR0 + jr::ORSFR), 0);
    assert_dma_zeroed(&bus);
}

#[test]
fn a_job_waits_while_the_output_ring_is_full() {
    // Ring-level model check, driving the registers as a driver with
    // several jobs in flight would.
    let (mut caam, bus) = ready();
    let slots = caam.config().ring_size as u32;
    let in_ring = BUS + hal_caam::jr::layout::INPUT_RING as u64;
    let desc_at = BUS + hal_caam::jr::layout::DESCRIPTOR as u64;
    // A tiny valid job: generate 4 random bytes into the output area.
    let d = hal_caam::desc::rng_generate(
        BUS + hal_caam::jr::layout::OUTPUT as u64,
        4,
        false,
        hal_caam::PointerSize::Bits32,
    )
    .unwrap();
    for (i, w) in d.words().iter().enumerate() {
        bus.write_u32_le(desc_at + 4 * i as u64, *w).unwrap();
    }
    let m = caam.regs_mut();
    let base_in = m.read32(JR0 + jr::IRRIR) / 4;
    for k in 0..=slots {
        let slot = (base_in + k) % slots;
        bus.write_u32_le(in_ring + 4 * u64::from(slot), desc_at as u32)
            .unwrap();
    }
    // Fill the output ring, then one more: it must wait, not overwrite.
    m.write32(JR0 + jr::IRJAR, slots);
    assert_eq!(m.read32(JR0 + jr::ORSFR), slots);
    m.write32(JR0 + jr::IRJAR, 1);
    assert_eq!(m.read32(JR0 + jr::ORSFR), slots);
    assert_eq!(m.read32(JR0 + jr::IRSAR), slots - 1);
    // Adding more than the free slots is an add overflow.
    m.write32(JR0 + jr::IRJAR, slots);
    assert_eq!(
        m.read32(JR0 + jr::JRINTR) & 0xF02,
        (jr::ERR_TYPE_ADD_OVERFLOW << 8) | 2
    );
    // Removing one entry lets the waiting job complete.
    m.write32(JR0 + jr::ORJRR, 1);
    assert_eq!(m.read32(JR0 + jr::ORSFR), slots);
    assert_eq!(m.read32(JR0 + jr::IRSAR), slots);
    // Removing more than completed is a remove overflow.
    m.write32(JR0 + jr::ORJRR, slots + 1);
    assert_eq!(
        m.read32(JR0 + jr::JRINTR) & 0xF00,
        jr::ERR_TYPE_REMOVE_OVERFLOW << 8
    );
    // The driver recovers from this state through its ring reset.
    caam.init().unwrap();
    works(&mut caam);
}

/// Enqueues raw descriptor words by hand (the typed builder cannot make
/// invalid ones) and returns the job status the sim wrote.
fn run_raw(caam: &mut SimCaam, bus: &trusted_core::DmaBus, words: &[u32]) -> u32 {
    use hal_caam::jr::layout;
    let desc_at = BUS + layout::DESCRIPTOR as u64;
    for (i, w) in words.iter().enumerate() {
        assert_eq!(bus.write_u32_le(desc_at + 4 * i as u64, *w), Ok(()));
    }
    let m = caam.regs_mut();
    let slot = u64::from(m.read32(JR0 + jr::IRRIR));
    let out = u64::from(m.read32(JR0 + jr::ORWIR));
    let entry = BUS + layout::INPUT_RING as u64 + slot;
    assert_eq!(bus.write_u32_le(entry, desc_at as u32), Ok(()));
    m.write32(JR0 + jr::IRJAR, 1);
    assert_eq!(m.read32(JR0 + jr::ORSFR), 1);
    // Output-ring entry: descriptor pointer, then status (32-bit pointers).
    let mut completion = [0u8; 8];
    let entry = BUS + layout::OUTPUT_RING as u64 + out;
    assert_eq!(bus.read(entry, &mut completion), Ok(()));
    let [d0, d1, d2, d3, s0, s1, s2, s3] = completion;
    assert_eq!(u32::from_le_bytes([d0, d1, d2, d3]), desc_at as u32);
    let status = u32::from_le_bytes([s0, s1, s2, s3]);
    m.write32(JR0 + jr::ORJRR, 1);
    status
}

#[test]
fn the_sim_answers_invalid_descriptors_with_caam_errors() {
    let (mut caam, bus) = ready();
    let out = (BUS + hal_caam::jr::layout::OUTPUT as u64) as u32;
    // Header without the ONE bit: invalid command at index 0.
    assert_eq!(run_raw(&mut caam, &bus, &[0xB000_0001]), 0x4000_0004);
    // Header length 0.
    assert_eq!(run_raw(&mut caam, &bus, &[0xB080_0000]), 0x4000_0013);
    // MOVE (type 0x0F), not implemented: invalid command at index 1.
    assert_eq!(
        run_raw(&mut caam, &bus, &[0xB080_0002, 0x7800_0000]),
        0x4000_0104
    );
    // KEY into both classes at once: KEY command error.
    assert_eq!(
        run_raw(&mut caam, &bus, &[0xB080_0003, 0x0680_0004, 0]),
        0x4000_0106
    );
    // FIFO LOAD of a message with no AES OPERATION before it.
    assert_eq!(
        run_raw(&mut caam, &bus, &[0xB080_0003, 0x2292_0004, 0]),
        0x4000_010A
    );
    // AES OPERATION after a 20-byte class-1 key: CCB AES key size error.
    let key20 = [0xB080_0008, 0x0280_0014, 0, 0, 0, 0, 0, 0x8210_020D];
    assert_eq!(run_raw(&mut caam, &bus, &key20), 0x2000_0713);
    // AES in CBC mode (not what the driver asks for): CCB AES mode error.
    let cbc = [0xB080_0007, 0x0280_0010, 0, 0, 0, 0, 0x8210_010D];
    assert_eq!(run_raw(&mut caam, &bus, &cbc), 0x2000_0611);
    // AES-ECB over 32 bytes: the sim models one block, data size error.
    let mut two_blocks = vec![0xB080_0010, 0x0280_0010, 0, 0, 0, 0, 0x8210_020D];
    two_blocks.push(0x2292_0020);
    two_blocks.extend([0u32; 8]);
    assert_eq!(run_raw(&mut caam, &bus, &two_blocks), 0x2000_0712);
    // FIFO STORE of message data with nothing encrypted before it.
    assert_eq!(
        run_raw(&mut caam, &bus, &[0xB080_0003, 0x6030_0010, out]),
        0x4000_010B
    );
    // Encapsulation with protocol id 0x01 (not BLOB): undefined protocol.
    assert_eq!(
        run_raw(&mut caam, &bus, &[0xB080_0002, 0x8701_0000]),
        0x4000_0181
    );
    // FIFO STORE of RNG data without a generate before it.
    assert_eq!(
        run_raw(&mut caam, &bus, &[0xB080_0003, 0x6034_0004, out]),
        0x4000_010B
    );
    // SEQ OUT PTR outside the DMA region, then MKVB: DMA error at the OPERATION.
    assert_eq!(
        run_raw(
            &mut caam,
            &bus,
            &[0xB080_0004, 0xF800_0020, 0x10, 0x870D_0002]
        ),
        0x4000_0316
    );
    // Blob encap without a key modifier: CCB AES key size error.
    assert_eq!(
        run_raw(
            &mut caam,
            &bus,
            &[0xB080_0006, 0xF000_0020, out, 0xF800_0050, out, 0x870D_0000]
        ),
        0x2000_0513
    );
    // Instantiating an instantiated handle: CCB RNG "instantiate" error.
    assert_eq!(
        run_raw(&mut caam, &bus, &[0xB080_0002, 0x8250_0006]),
        0x2000_0153
    );
    // Jobs enqueued behind the driver's back moved the hardware index:
    // after a ring reset the driver works again.
    caam.init().unwrap();
    works(&mut caam);
}
