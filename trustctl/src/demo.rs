//! `trustctl demo`: what a bootloader does on each trust source, on the
//! host, through the library's boot flow (`trusted_core::flow`) and A/B
//! blob store (over a RAM NOR flash). First boot with an empty blob store:
//! a new key, seal, store the blob, read it back and unseal it once; then
//! "reboot" (every driver and sim dropped and made again from the same
//! device configuration, as fuses survive a reset): read the blob, unseal,
//! compare.

use trusted_core::flow::{FlowOptions, Path, provision_or_unseal};
use trusted_core::store::{BlobStore, StoreLayout};
use trusted_core::tee::TeeSealer;
use trusted_core::test_util::RamNor;
use trusted_core::{RngChoice, StaticHuk, TrustSource};

use crate::caam::{self, CaamArgs};
use crate::dcp::{self, DcpArgs};
use crate::host::{HostRng, SecretArg, hex};
use crate::stm32mp1::{self, SaesArgs, SaesPart, Stm32mp1Args};
use crate::tpm;

/// The demo's HUK for the TEE sealer: a fixed, public value. Real devices
/// get theirs from the DCP, CAAM or OTP fuses (see the other rows).
const DEMO_HUK: [u8; 16] = *b"demo-huk-public!";

/// The simulated DCP's UNIQUE key (a fused part has its own; an all-zero
/// key is refused by the zero-key self test, as Linux does).
const DEMO_DCP_UNIQUE_KEY: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";

/// The simulated STM32MP15's HUK words 60..63, as provisioning burns them.
const DEMO_OTP: [&str; 4] = ["60=8badf00d", "61=0ddba11c", "62=c0ffee00", "63=5eed1e55"];

/// The simulated STM32MP13's DHUK (inside its SAES; a real one never
/// leaves the chip).
const DEMO_DHUK: &str = "6d7031332d73616573206468756b2121";

/// The simulated CAAM's OTPMK (secure state).
const DEMO_CAAM_MASTER_KEY: &str =
    "a5c3e1f00f1e2d3c4b5a69788796a5b4c3d2e1f000112233445566778899aabb";

const TEE_FORMAT: &str = "OP-TEE TA: 0 | IV | tag | GCM (N+33)";

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

/// The demo's flash: 4 KiB sectors of 4-byte words, one sector per slot.
type DemoFlash = RamNor<1, 4, 4096>;

/// Two boots of the library's boot flow (`trusted_core::flow`) on a blob
/// store over a RAM NOR flash: boot 1 provisions, boot 2 unseals.
fn boot_twice<S: TrustSource>(case: &Case<S>, blob_len: &mut usize) -> Result<(), String> {
    let layout = StoreLayout::compact::<DemoFlash>(0);
    let flash = DemoFlash::new(2 * StoreLayout::min_slot_size::<DemoFlash>());
    let mut store = BlobStore::new(flash, layout).map_err(|e| e.to_string())?;
    println!("   boot 1: blob store is empty");
    let mut source = (case.boot)()?;
    source.init().map_err(|e| format!("init: {e}"))?;
    let options = FlowOptions::for_source(&source);
    match options.rng {
        RngChoice::Source => println!("   boot 1: new 32-byte key from the {} RNG", source.name()),
        RngChoice::Caller => println!(
            "   boot 1: new 32-byte key from the caller's RNG ({} has none)",
            source.name()
        ),
    }
    let (key, path) = provision_or_unseal(&mut source, &mut store, &mut HostRng, &options)
        .map_err(|e| format!("boot 1: {e}"))?;
    let stored = store
        .read(source.name())
        .map_err(|e| e.to_string())?
        .ok_or("boot 1: nothing stored")?;
    *blob_len = stored.blob.len();
    println!(
        "   boot 1: sealed, {} bytes: {}…",
        stored.blob.len(),
        hex(&stored.blob.as_bytes()[..16.min(stored.blob.len())])
    );
    println!(
        "   boot 1: blob written to flash slot {}, read back and unsealed ({path})",
        stored.slot.name()
    );
    drop(source);

    println!("   reboot: every driver and model made again");
    let mut store = BlobStore::new(store.into_inner(), layout).map_err(|e| e.to_string())?;
    let mut source = (case.boot)()?;
    source
        .init()
        .map_err(|e| format!("init after reboot: {e}"))?;
    let (unsealed, path) = provision_or_unseal(&mut source, &mut store, &mut HostRng, &options)
        .map_err(|e| format!("boot 2: {e}"))?;
    println!("   boot 2: blob read from flash");
    println!("   boot 2: unsealed {} bytes ({path})", unsealed.len());
    if path != Path::Unsealed || unsealed != key {
        return Err("unsealed key differs from the sealed key".into());
    }
    Ok(())
}

/// The TPM row: on a swtpm the demo starts itself, or a plain "not run".
fn tpm_row() -> Row {
    println!("== tpm (swtpm) ==");
    let (blob_len, result) = match tpm::demo() {
        Ok(Some(len)) => {
            println!("   result: unsealed key equals the sealed key");
            (len, Ok(()))
        }
        Ok(None) => {
            println!(
                "   not run: swtpm is not installed; apt-get install -y swtpm swtpm-tools tpm2-tools"
            );
            (0, Err(NOT_RUN.to_string()))
        }
        Err(e) => {
            println!("   FAILED: {e}");
            (0, Err(e))
        }
    };
    Row {
        source: "tpm (swtpm, sessions)",
        format: "TPMKey DER: OID | emptyAuth | parent | pub | priv",
        keyctl: "trusted.source=tpm",
        blob_len,
        result,
    }
}

const NOT_RUN: &str = "not run (install swtpm)";

pub fn run() -> Result<(), String> {
    let dcp_args = DcpArgs {
        unique_key: Some(SecretArg::new(DEMO_DCP_UNIQUE_KEY)),
        ..DcpArgs::default()
    };
    let caam_args = CaamArgs {
        master_key: Some(SecretArg::new(DEMO_CAAM_MASTER_KEY)),
        ..CaamArgs::default()
    };
    let otp_args = Stm32mp1Args {
        otp: DEMO_OTP.iter().map(|w| SecretArg::new(w)).collect(),
        ..Stm32mp1Args::default()
    };
    let rows = vec![
        run_case(Case {
            source: "tee (demo HUK)",
            format: TEE_FORMAT,
            keyctl: "trusted.source=tee",
            boot: Box::new(|| Ok(TeeSealer::new(StaticHuk::new(DEMO_HUK), HostRng))),
        }),
        run_case(Case {
            source: "dcp-sim",
            format: "trusted_dcp v1: 1 | BEK | nonce | len | GCM | tag (N+53)",
            keyctl: "trusted.source=dcp",
            boot: Box::new({
                let args = dcp_args.clone();
                move || dcp::source(&args)
            }),
        }),
        run_case(Case {
            source: "tee (dcp-sim HUK)",
            format: TEE_FORMAT,
            keyctl: "trusted.source=tee",
            boot: Box::new({
                let args = dcp_args.clone();
                move || dcp::tee(&args)
            }),
        }),
        run_case(Case {
            source: "caam-sim",
            format: "CAAM red blob: BK | CCM data | MAC (N+48)",
            keyctl: "trusted.source=caam",
            boot: Box::new({
                let args = caam_args.clone();
                move || caam::source(&args)
            }),
        }),
        run_case(Case {
            source: "tee (caam-sim HUK)",
            format: TEE_FORMAT,
            keyctl: "trusted.source=tee",
            boot: Box::new({
                let args = caam_args.clone();
                move || caam::tee(&args)
            }),
        }),
        run_case(Case {
            source: "tee (stm32mp1-sim HUK)",
            format: TEE_FORMAT,
            keyctl: "trusted.source=tee",
            boot: Box::new(move || stm32mp1::tee_source(&otp_args)),
        }),
        run_case(Case {
            source: "tee (stm32mp13-sim DHUK)",
            format: TEE_FORMAT,
            keyctl: "trusted.source=tee",
            boot: Box::new(move || {
                let args = SaesArgs {
                    dhuk: Some(SecretArg::new(DEMO_DHUK)),
                };
                stm32mp1::saes_tee(&args, SaesPart::Mp13)
            }),
        }),
        tpm_row(),
    ];

    println!();
    println!(
        "{:<24} {:<58} {:>10}  {:<22} result",
        "source", "blob format", "blob bytes", "Linux keyctl source"
    );
    for row in &rows {
        let result = match &row.result {
            Ok(()) => "ok".to_string(),
            Err(e) if e == NOT_RUN => e.clone(),
            Err(e) => format!("FAILED: {e}"),
        };
        println!(
            "{:<24} {:<58} {:>10}  {:<22} {}",
            row.source, row.format, row.blob_len, row.keyctl, result
        );
    }
    let failed = rows
        .iter()
        .filter(|r| r.result.as_ref().is_err_and(|e| e != NOT_RUN))
        .count();
    if failed > 0 {
        return Err(format!("{failed} of {} sources failed", rows.len()));
    }
    Ok(())
}
