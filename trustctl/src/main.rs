//! trustctl: the host side of trusted-keys-rs. Seals and unseals keys on
//! every trust source (the sims, a TEE HUK, or a TPM behind swtpm), prints
//! HUKs, checks keyctl payloads, and runs the end-to-end demo.
//!
//! Every failure prints one line on stderr and exits non-zero.

mod caam;
mod dcp;
mod demo;
mod host;
mod stm32mp1;
mod tpm;

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use trusted_core::keyctl::{Command as KeyCommand, Payload, TpmOptions};
use trusted_core::tee::TeeSealer;
use trusted_core::{Key, SealedBlob, StaticHuk, TrustSource};

use host::{HostRng, parse_huk};

#[derive(Parser)]
#[command(
    name = "trustctl",
    version,
    about = "Seal and unseal Linux-compatible trusted keys on firmware trust sources"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Seal a key and print the blob as lowercase hex (what `keyctl pipe` prints).
    Seal {
        #[command(flatten)]
        source: SourceArgs,
        /// The key to seal, as hex (32..=128 bytes).
        #[arg(long, conflicts_with = "new", required_unless_present = "new")]
        key: Option<String>,
        /// Make a new random key of N bytes instead (printed on stderr).
        #[arg(long, value_name = "N")]
        new: Option<usize>,
    },
    /// Unseal a blob and print the key as lowercase hex.
    Unseal {
        #[command(flatten)]
        source: SourceArgs,
        /// The blob, as hex (`keyctl pipe` output).
        #[arg(long)]
        blob: String,
    },
    /// Print the OP-TEE hardware unique key a simulated device derives.
    Huk {
        /// Device model to derive the HUK on.
        #[arg(long, value_enum)]
        source: HukFrom,
        #[command(flatten)]
        caam: caam::CaamArgs,
        #[command(flatten)]
        dcp: dcp::DcpArgs,
        #[command(flatten)]
        stm32mp1: stm32mp1::Stm32mp1Args,
        #[command(flatten)]
        saes: stm32mp1::SaesArgs,
    },
    /// TPM set-up.
    #[command(subcommand)]
    Tpm(TpmCmd),
    /// STM32MP15 offline provisioning.
    #[command(subcommand)]
    Stm32mp1(Stm32mp1Cmd),
    /// Parse a keyctl payload as Linux does and print it, or the reason it is rejected.
    Keyctl {
        /// e.g. 'new 32 keyhandle=0x81000001'
        payload: String,
    },
    /// First boot, seal, store, reboot, unseal, on every source; prints a table.
    Demo,
}

#[derive(Subcommand)]
enum TpmCmd {
    /// Create the ECC P-256 storage key and persist it at 0x81000001 (kept if present); print its Name.
    Provision {
        /// swtpm command channel.
        #[arg(long, value_name = "HOST:PORT")]
        swtpm: String,
    },
}

#[derive(Subcommand)]
enum Stm32mp1Cmd {
    /// Print the OTP word/value list to burn for a 128-bit HUK (irreversible on a device).
    ProvisionImage {
        /// The HUK, 32 hex digits.
        #[arg(long, value_name = "HEX")]
        huk: String,
    },
}

#[derive(Args)]
struct SourceArgs {
    /// Trust source.
    #[arg(long, value_enum)]
    source: SourceKind,
    /// HUK for `--source tee`, 32 hex digits (16 bytes).
    #[arg(long, value_name = "HEX", conflicts_with = "huk_from")]
    huk: Option<String>,
    /// For `--source tee`: take the HUK from a simulated device instead.
    #[arg(long, value_enum)]
    huk_from: Option<HukFrom>,
    #[command(flatten)]
    caam: caam::CaamArgs,
    #[command(flatten)]
    dcp: dcp::DcpArgs,
    #[command(flatten)]
    stm32mp1: stm32mp1::Stm32mp1Args,
    #[command(flatten)]
    saes: stm32mp1::SaesArgs,
    #[command(flatten)]
    tpm: tpm::TpmArgs,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SourceKind {
    /// OP-TEE trusted_keys TA blobs (Linux trusted.source=tee).
    Tee,
    /// Linux trusted_dcp blobs on the simulated NXP DCP.
    DcpSim,
    /// Linux trusted_caam blobs on the simulated NXP CAAM.
    CaamSim,
    /// Linux TPM 2.0 TPMKey blobs on a TPM (swtpm) through the TIS-over-SPI model.
    Tpm,
}

/// Simulated devices that give an OP-TEE HUK. The names are the CLI values.
#[allow(clippy::enum_variant_names)]
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum HukFrom {
    /// NXP DCP (i.MX6ULL): AES-CMAC under the UNIQUE key.
    DcpSim,
    /// NXP CAAM (i.MX6/7/8): first 16 bytes of the master key verification blob.
    CaamSim,
    /// STM32MP15 BSEC OTP words.
    Stm32mp1Sim,
    /// STM32MP13 SAES: OP-TEE's DHUK KDF (arm32, 4-byte size_t); needs --dhuk.
    Stm32mp13Sim,
    /// STM32MP23/MP25 SAES: the DHUK KDF of an arm64 OP-TEE (8-byte size_t); needs --dhuk.
    Stm32mp25Sim,
    /// STM32MP21 SAES (its own register block), arm64 OP-TEE; needs --dhuk.
    Stm32mp21Sim,
}

impl HukFrom {
    /// The SAES part behind a DHUK source, if this is one.
    fn saes_part(self) -> Option<stm32mp1::SaesPart> {
        match self {
            HukFrom::Stm32mp13Sim => Some(stm32mp1::SaesPart::Mp13),
            HukFrom::Stm32mp25Sim => Some(stm32mp1::SaesPart::Mp25),
            HukFrom::Stm32mp21Sim => Some(stm32mp1::SaesPart::Mp21),
            _ => None,
        }
    }
}

fn tee_with_huk(args: &SourceArgs) -> Result<TeeSealer<StaticHuk, HostRng>, String> {
    let huk = args
        .huk
        .as_deref()
        .ok_or("--source tee needs --huk HEX or --huk-from DEVICE")?;
    Ok(TeeSealer::new(StaticHuk::new(parse_huk(huk)?), HostRng))
}

fn seal(args: &SourceArgs, key: &Key) -> Result<SealedBlob, String> {
    match (args.source, args.huk_from) {
        (SourceKind::Tee, None) => tee_with_huk(args)?
            .seal(key, "")
            .map_err(|e| format!("seal failed: {e}")),
        (SourceKind::Tee, Some(HukFrom::DcpSim)) => dcp::tee_seal(&args.dcp, key),
        (SourceKind::Tee, Some(HukFrom::CaamSim)) => caam::tee_seal(&args.caam, key),
        (SourceKind::CaamSim, None) => caam::seal(&args.caam, key),
        (SourceKind::Tpm, None) => tpm::seal(&args.tpm, key),
        (SourceKind::Tee, Some(HukFrom::Stm32mp1Sim)) => stm32mp1::seal(&args.stm32mp1, key),
        (SourceKind::Tee, Some(from)) if from.saes_part().is_some() => {
            let part = from.saes_part().ok_or("not an SAES part")?;
            stm32mp1::saes_seal(&args.saes, part, key)
        }
        (SourceKind::DcpSim, None) => dcp::seal(&args.dcp, key),
        (_, Some(_)) => Err("--huk-from only goes with --source tee".into()),
    }
}

fn unseal(args: &SourceArgs, blob: &[u8]) -> Result<Key, String> {
    match (args.source, args.huk_from) {
        (SourceKind::Tee, None) => tee_with_huk(args)?
            .unseal(blob, "")
            .map_err(|e| format!("unseal failed: {e}")),
        (SourceKind::Tee, Some(HukFrom::DcpSim)) => dcp::tee_unseal(&args.dcp, blob),
        (SourceKind::Tee, Some(HukFrom::CaamSim)) => caam::tee_unseal(&args.caam, blob),
        (SourceKind::CaamSim, None) => caam::unseal(&args.caam, blob),
        (SourceKind::Tpm, None) => tpm::unseal(&args.tpm, blob),
        (SourceKind::Tee, Some(HukFrom::Stm32mp1Sim)) => stm32mp1::unseal(&args.stm32mp1, blob),
        (SourceKind::Tee, Some(from)) if from.saes_part().is_some() => {
            let part = from.saes_part().ok_or("not an SAES part")?;
            stm32mp1::saes_unseal(&args.saes, part, blob)
        }
        (SourceKind::DcpSim, None) => dcp::unseal(&args.dcp, blob),
        (_, Some(_)) => Err("--huk-from only goes with --source tee".into()),
    }
}

fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Cmd::Seal { source, key, new } => {
            let key = match (key, new) {
                (Some(hex), _) => Key::from_hex(&hex).map_err(|e| format!("--key: {e}"))?,
                (None, Some(n)) => {
                    // The TPM has its own RNG (Linux trusted.rng=default).
                    let key = match source.source {
                        SourceKind::Tpm => tpm::new_key(&source.tpm, n)?,
                        _ => host::random_key(n)?,
                    };
                    eprintln!("new key: {}", host::hex(key.as_bytes()));
                    key
                }
                (None, None) => return Err("give --key HEX or --new N".into()),
            };
            println!("{}", seal(&source, &key)?);
        }
        Cmd::Unseal { source, blob } => {
            let blob = host::parse_blob(&blob)?;
            let key = unseal(&source, blob.as_bytes())?;
            println!("{}", host::hex(key.as_bytes()));
        }
        Cmd::Huk {
            source,
            caam,
            dcp,
            stm32mp1,
            saes: _,
        } => {
            let huk = match source {
                HukFrom::DcpSim => dcp::huk(&dcp)?,
                HukFrom::CaamSim => caam::huk(&caam)?,
                HukFrom::Stm32mp1Sim => stm32mp1::huk(&stm32mp1)?,
                HukFrom::Stm32mp13Sim | HukFrom::Stm32mp25Sim | HukFrom::Stm32mp21Sim => {
                    stm32mp1::saes_huk()?
                }
            };
            println!("{}", host::hex(&huk));
        }
        Cmd::Tpm(TpmCmd::Provision { swtpm }) => {
            let (created, srk_name) = tpm::provision(&swtpm)?;
            println!(
                "storage key at 0x81000001: {}",
                if created {
                    "created"
                } else {
                    "already present"
                }
            );
            println!("srk name: {srk_name} (pass it as --srk-name to seal and unseal)");
        }
        Cmd::Stm32mp1(Stm32mp1Cmd::ProvisionImage { huk }) => {
            print!("{}", stm32mp1::provision_image(&huk)?);
        }
        Cmd::Keyctl { payload } => keyctl(&payload)?,
        Cmd::Demo => demo::run()?,
    }
    Ok(())
}

fn keyctl(text: &str) -> Result<(), String> {
    let payload = Payload::parse(text).map_err(|e| e.to_string())?;
    match &payload.command {
        KeyCommand::New { key_len } => println!("command: new\nkey length: {key_len}"),
        KeyCommand::Load { blob } => println!("command: load\nblob: {} bytes", blob.len()),
        KeyCommand::Update => println!("command: update"),
    }
    println!("options: {:?}", payload.options);
    match TpmOptions::parse(payload.options) {
        Ok(tpm) => println!("tpm options: {tpm}\ncanonical: {payload}"),
        Err(e) => return Err(format!("tpm source would reject the options: {e}")),
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            let text = e.to_string();
            let line = text.lines().next().unwrap_or("invalid arguments");
            eprintln!("trustctl: {}", line.trim_start_matches("error: "));
            return ExitCode::from(2);
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("trustctl: {msg}");
            ExitCode::FAILURE
        }
    }
}
