//! BSEC and `STM32_SMC_BSEC` return handling (`hal_stm32mp1_otp`): the
//! secure monitor's answers (every result register) and, on the other
//! path, every BSEC register read come from the fuzz input, while the
//! drivers read and program words, query locks, read the HUK in both
//! OP-TEE derivations and provision one. An all-zero HUK is never
//! accepted, whatever the fuses or the monitor say.
#![no_main]

use hal_stm32mp1_otp::{
    Bsec, OtpAccess, ProvisionOptions, Smc, SmcOtp, Stm32mp15Huk, provision_huk,
};
use libfuzzer_sys::fuzz_target;
use trusted_core::test_util::NoDelay;
use trusted_keys_fuzz::{Input, InputMmio, huk_config, pieces};

/// A monitor whose every answer is the next 16 input bytes.
struct FuzzSmc<'a>(Input<'a>);

impl Smc for FuzzSmc<'_> {
    fn smc(&mut self, _args: [u32; 4]) -> [u32; 4] {
        [self.0.u32(), self.0.u32(), self.0.u32(), self.0.u32()]
    }
}

fn exercise<A: OtpAccess>(access: A, flags: u8) {
    let config = huk_config(flags);
    let mut huk = Stm32mp15Huk::new(access, config).expect("valid words");
    if let Ok((bytes, _)) = huk.read() {
        assert_ne!(*bytes, [0u8; 16], "an all-zero HUK was accepted");
    }
    let mut access = huk.into_inner();
    for word in [0u8, 13, 32, 60, 95, 96] {
        let _ = access.read_shadow(word);
        let _ = access.read_fuse(word);
        let _ = access.lock_state(word);
    }
    let _ = access.program(61, 0x0000_ff00);
    let _ = access.program(5, 0x0000_0101);
    let _ = provision_huk(
        &mut access,
        &[0x5a; 16],
        ProvisionOptions {
            verify_lock: flags & 4 != 0,
            ..ProvisionOptions::default()
        },
    );
}

fuzz_target!(|data: &[u8]| {
    let mut parts = pieces(data);
    let flags = parts.next().and_then(|p| p.first().copied()).unwrap_or(0);
    let smc = parts.next().unwrap_or_default();
    let regs = parts.next().unwrap_or_default();
    exercise(SmcOtp::new(FuzzSmc(Input::new(smc))), flags);
    let mut bsec = Bsec::new(InputMmio::new(regs), NoDelay);
    let _ = bsec.probe();
    let _ = bsec.status();
    let _ = bsec.security_state();
    exercise(bsec, flags);
});
