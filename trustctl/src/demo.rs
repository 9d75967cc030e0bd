//! `trustctl demo`: what a bootloader does on each trust source, on the
//! host. First boot with an empty blob store, a new key, seal, store the
//! blob, "reboot" (every driver and sim dropped and made again from the
//! same device configuration, as fuses survive a reset), read the blob,
//! unseal, compare.

use trusted_core::tee::TeeSealer;
use trusted_core::{Key, StaticHuk, TrustSource};

use crate::host::{HostRng, hex, random_key};

/// The demo's HUK for the TEE sealer: a fixed, public value. Real devices
/// get theirs from the DCP, CAAM or OTP fuses (see the other rows).
const DEMO_HUK: [u8; 16] = *b"demo-huk-public!";

/// One row of the final table.
struct Row {
    source: &'static str,
    format: &'static str,
    keyctl: &'static str,
    blob_len: usize,
    result: Result<(), String>,
}

/// A trust source the demo can make again after a "reboot".
pub struct Case<S> {
    /// Table name of the source.
    pub source: &'static str,
    /// Blob format in words.
    pub format: &'static str,
    /// The Linux `keyctl`/`trusted.source=` it is compatible with.
    pub keyctl: &'static str,
    /// Builds the source as a fresh boot would.
    pub boot: Box<dyn Fn() -> Result<S, String>>,
}

fn run_case<S: TrustSource>(case: Case<S>) -> Row {
    println!("== {} ==", case.source);
    let mut blob_len = 0;
    let result = boot_twice(&case, &mut blob_len);
    match &result {
        Ok(()) => println!("   result: unsealed key equals the sealed key"),
        Err(e) => println!("   FAILED: {e}"),
    }
    Row {
        source: case.source,
        format: case.format,
        keyctl: case.keyctl,
        blob_len,
        result,
    }
}

fn boot_twice<S: TrustSource>(case: &Case<S>, blob_len: &mut usize) -> Result<(), String> {
    println!("   boot 1: blob store is empty");
    let mut source = (case.boot)()?;
    source.init().map_err(|e| format!("init: {e}"))?;
    let key = if source.has_rng() {
        let mut key = Key::zeroed(32).map_err(|e| e.to_string())?;
        source
            .random(key.as_mut_bytes())
            .map_err(|e| format!("random: {e}"))?;
        println!("   boot 1: new 32-byte key from the {} RNG", source.name());
        key
    } else {
        println!(
            "   boot 1: new 32-byte key from the caller's RNG ({} has none)",
            source.name()
        );
        random_key(32)?
    };
    let blob = source.seal(&key, "").map_err(|e| format!("seal: {e}"))?;
    *blob_len = blob.len();
    println!(
        "   boot 1: sealed, {} bytes: {}…",
        blob.len(),
        hex(&blob.as_bytes()[..16.min(blob.len())])
    );
    let flash = blob.as_bytes().to_vec();
    println!("   boot 1: blob written to flash");
    drop(source);

    println!("   reboot: every driver and model made again");
    let mut source = (case.boot)()?;
    source
        .init()
        .map_err(|e| format!("init after reboot: {e}"))?;
    println!("   boot 2: blob read from flash");
    let unsealed = source
        .unseal(&flash, "")
        .map_err(|e| format!("unseal: {e}"))?;
    println!("   boot 2: unsealed {} bytes", unsealed.len());
    if unsealed != key {
        return Err("unsealed key differs from the sealed key".into());
    }
    Ok(())
}

pub fn run() -> Result<(), String> {
    let rows = vec![run_case(Case {
        source: "tee (demo HUK)",
        format: "OP-TEE TA: 0 | IV | tag | GCM (N+33)",
        keyctl: "trusted.source=tee",
        boot: Box::new(|| Ok(TeeSealer::new(StaticHuk::new(DEMO_HUK), HostRng))),
    })];

    println!();
    println!(
        "{:<22} {:<40} {:>10}  {:<22} result",
        "source", "blob format", "blob bytes", "Linux keyctl source"
    );
    for row in &rows {
        let result = match &row.result {
            Ok(()) => "ok".to_string(),
            Err(e) => format!("FAILED: {e}"),
        };
        println!(
            "{:<22} {:<40} {:>10}  {:<22} {}",
            row.source, row.format, row.blob_len, row.keyctl, result
        );
    }
    let failed = rows.iter().filter(|r| r.result.is_err()).count();
    if failed > 0 {
        return Err(format!("{failed} of {} sources failed", rows.len()));
    }
    Ok(())
}
