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

/// Runs one boot of the flow on the source a [`Boot`] made.
pub type Lend<'a> = &'a mut dyn FnMut(&mut dyn TrustSource) -> Result<(), String>;

/// Makes a trust source as a fresh boot would and lends it to one boot:
/// lent, not returned, as the TPM source borrows its SPI sim's device.
pub type Boot = Box<dyn Fn(Lend<'_>) -> Result<(), String>>;

/// A [`Boot`] for a source that owns its device.
fn owned<S: TrustSource + 'static>(make: impl Fn() -> Result<S, String> + 'static) -> Boot {
    Box::new(move |run| run(&mut make()?))
}

/// A trust source the demo can make again after a "reboot".
pub struct Case {
    /// Table name of the source.
    pub source: &'static str,
    /// Blob format in words.
    pub format: &'static str,
    /// The Linux `keyctl`/`trusted.source=` it is compatible with.
    pub keyctl: &'static str,
    /// keyctl-style seal/unseal options (the TPM's `keyhandle=`; the other
    /// sources ignore them).
    pub options: String,
    /// Builds the source as a fresh boot would.
    pub boot: Boot,
}

fn run_case(case: Case) -> Row {
    println!("== {} ==", case.source);
    run_boots(case)
}

/// [`boot_twice`] and the row it gives.
fn run_boots(case: Case) -> Row {
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

/// Initialises `source` and picks its flow options (Linux's
/// `trusted.rng=default`).
fn init<'a>(
    source: &mut dyn TrustSource,
    options: &'a str,
    when: &str,
) -> Result<FlowOptions<'a>, String> {
    source.init().map_err(|e| format!("{when}: init: {e}"))?;
    Ok(FlowOptions::for_source(source).options(options))
}

/// Two boots of the library's boot flow (`trusted_core::flow`) on a blob
/// store over a RAM NOR flash: boot 1 provisions, boot 2 unseals.
fn boot_twice(case: &Case, blob_len: &mut usize) -> Result<(), String> {
    let layout = StoreLayout::compact::<DemoFlash>(0);
    let flash = DemoFlash::new(2 * StoreLayout::min_slot_size::<DemoFlash>());
    let mut store = BlobStore::new(flash, layout).map_err(|e| e.to_string())?;
    println!("   boot 1: blob store is empty");
    let mut key = None;
    (case.boot)(&mut |source| {
        let options = init(source, &case.options, "boot 1")?;
        match options.rng {
            RngChoice::Source => {
                println!("   boot 1: new 32-byte key from the {} RNG", source.name())
            }
            RngChoice::Caller => println!(
                "   boot 1: new 32-byte key from the caller's RNG ({} has none)",
                source.name()
            ),
        }
        let (new, path) = provision_or_unseal(source, &mut store, &mut HostRng, &options)
            .map_err(|e| format!("boot 1: {e}"))?;
        key = Some(new);
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
        Ok(())
    })?;

    println!("   reboot: every driver and model made again");
    let mut store = BlobStore::new(store.into_inner(), layout).map_err(|e| e.to_string())?;
    (case.boot)(&mut |source| {
        let options = init(source, &case.options, "after reboot")?;
        let (unsealed, path) = provision_or_unseal(source, &mut store, &mut HostRng, &options)
            .map_err(|e| format!("boot 2: {e}"))?;
        println!("   boot 2: blob read from flash");
        println!("   boot 2: unsealed {} bytes ({path})", unsealed.len());
        if path != Path::Unsealed || key.as_ref() != Some(&unsealed) {
            return Err("unsealed key differs from the sealed key".into());
        }
        Ok(())
    })
}

/// The TPM row: the same two boots on a swtpm the demo starts itself, or
/// a plain "not run".
fn tpm_row() -> Row {
    let source = "tpm (swtpm, sessions)";
    let format = "TPMKey DER: OID | emptyAuth | parent | pub | priv";
    let keyctl = "trusted.source=tpm";
    println!("== {source} ==");
    let result = match tpm::demo_boot() {
        Ok(Some((options, boot))) => {
            return run_boots(Case {
                source,
                format,
                keyctl,
                options,
                boot,
            });
        }
        Ok(None) => {
            println!(
                "   not run: swtpm is not installed; apt-get install -y swtpm swtpm-tools tpm2-tools"
            );
            Err(NOT_RUN.to_string())
        }
        Err(e) => {
            println!("   FAILED: {e}");
            Err(e)
        }
    };
    Row {
        source,
        format,
        keyctl,
        blob_len: 0,
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
            options: String::new(),
            boot: owned(|| Ok(TeeSealer::new(StaticHuk::new(DEMO_HUK), HostRng))),
        }),
        run_case(Case {
            source: "dcp-sim",
            format: "trusted_dcp v1: 1 | BEK | nonce | len | GCM | tag (N+53)",
            keyctl: "trusted.source=dcp",
            options: String::new(),
            boot: owned({
                let args = dcp_args.clone();
                move || dcp::source(&args)
            }),
        }),
        run_case(Case {
            source: "tee (dcp-sim HUK)",
            format: TEE_FORMAT,
            keyctl: "trusted.source=tee",
            options: String::new(),
            boot: owned({
                let args = dcp_args.clone();
                move || dcp::tee(&args)
            }),
        }),
        run_case(Case {
            source: "caam-sim",
            format: "CAAM red blob: BK | CCM data | MAC (N+48)",
            keyctl: "trusted.source=caam",
            options: String::new(),
            boot: owned({
                let args = caam_args.clone();
                move || caam::source(&args)
            }),
        }),
        run_case(Case {
            source: "tee (caam-sim HUK)",
            format: TEE_FORMAT,
            keyctl: "trusted.source=tee",
            options: String::new(),
            boot: owned({
                let args = caam_args.clone();
                move || caam::tee(&args)
            }),
        }),
        run_case(Case {
            source: "tee (stm32mp1-sim HUK)",
            format: TEE_FORMAT,
            keyctl: "trusted.source=tee",
            options: String::new(),
            boot: owned(move || stm32mp1::tee_source(&otp_args)),
        }),
        run_case(Case {
            source: "tee (stm32mp13-sim DHUK)",
            format: TEE_FORMAT,
            keyctl: "trusted.source=tee",
            options: String::new(),
            boot: owned(move || {
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
