//! The keyctl payload grammar (`trusted_core::keyctl`): any text into
//! `Payload::parse` and `TpmOptions::parse`, and what they accept printed
//! and parsed again must give the same value (print→parse round trip);
//! accepted payloads then run through `trusted::instantiate` on a TEE
//! sealer.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trusted_core::keyctl::{Payload, TpmOptions};
use trusted_core::tee::TeeSealer;
use trusted_core::test_util::ScriptRng;
use trusted_core::{RngChoice, StaticHuk, trusted};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(p) = Payload::parse(text) {
        let printed = p.to_string();
        let again = Payload::parse(&printed)
            .unwrap_or_else(|e| panic!("{printed:?} (printed from {text:?}) does not parse: {e}"));
        assert_eq!(again, p, "{text:?} printed as {printed:?}");
        let mut tee = TeeSealer::new(StaticHuk::new([0; 16]), ScriptRng::counting(0));
        if let Ok(made) = trusted::instantiate(
            &mut tee,
            RngChoice::Source,
            &mut ScriptRng::counting(1),
            text,
        ) {
            let load = format!("load {} {}", made.blob, p.options);
            let loaded = trusted::instantiate(
                &mut tee,
                RngChoice::Source,
                &mut ScriptRng::counting(1),
                &load,
            )
            .expect("a blob just made loads");
            assert_eq!(loaded.key, made.key);
        }
    }
    if let Ok(o) = TpmOptions::parse(text) {
        let printed = o.to_string();
        let again = TpmOptions::parse(&printed)
            .unwrap_or_else(|e| panic!("{printed:?} (printed from {text:?}) does not parse: {e}"));
        assert!(
            again == o,
            "{text:?} printed as {printed:?} parses to another value"
        );
    }
});
