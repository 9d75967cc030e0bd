//! Shared test harness: swtpm and tpm2-tools, the driver stack over the
//! TIS-over-SPI sim, a transport that records what crossed it, and the bus
//! trace split into what the host sent and what the TPM answered.
#![allow(dead_code)]

use std::cell::RefCell;

use hal_tpm_spi::regs::{SPI_HEADER_LEN, SPI_READ, TPM_DATA_FIFO};
use hal_tpm_spi::sim::swtpm::{SwtpmBackend, SwtpmProcess};
use hal_tpm_spi::sim::{SimCs, SimSpi, TpmSim, TraceEvent};
use hal_tpm_spi::{SpiTis, SpiTpm, Tis, TpmSource, Transport};
use trusted_core::TrustSource;
use trusted_core::test_util::{NoDelay, ScriptRng};

/// Starts swtpm; the error says what to install (tests unwrap it: they
/// fail, never skip, without swtpm).
pub fn swtpm() -> Result<SwtpmProcess, String> {
    SwtpmProcess::start().map_err(|e| {
        format!("swtpm needed for this test: {e} (apt-get install swtpm swtpm-tools tpm2-tools)")
    })
}

/// The TIS-over-SPI sim in front of a swtpm, with a `TRACE`-event bus trace.
pub type Dev<const TRACE: usize = 0> = RefCell<TpmSim<SwtpmBackend, TRACE>>;

/// The SPI TPM stack on a [`Dev`].
pub type SpiStack<'a, const TRACE: usize = 0> =
    SpiTpm<SimSpi<'a, SwtpmBackend, TRACE>, SimCs<'a, SwtpmBackend, TRACE>, NoDelay>;

/// The SPI TPM stack on a sim with canned answers.
pub type CannedStack<'a> = SpiTpm<
    SimSpi<'a, hal_tpm_spi::sim::CannedBackend<'a>>,
    SimCs<'a, hal_tpm_spi::sim::CannedBackend<'a>>,
    NoDelay,
>;

/// The source on a [`Dev`], with a counting RNG.
pub type Src<'a, const TRACE: usize = 0> = TpmSource<SpiStack<'a, TRACE>, ScriptRng>;

/// A sim connected to `p` (one connection at a time: swtpm serves one client).
pub fn device<const TRACE: usize>(p: &SwtpmProcess) -> std::io::Result<Dev<TRACE>> {
    Ok(RefCell::new(TpmSim::new(p.connect()?)))
}

/// A swtpm and the TIS-over-SPI sim connected to it.
pub fn swtpm_sim() -> Result<(SwtpmProcess, Dev), String> {
    let p = swtpm()?;
    let dev = device(&p).map_err(|e| e.to_string())?;
    Ok((p, dev))
}

/// The SPI stack on `dev`.
pub fn spi<const TRACE: usize>(dev: &Dev<TRACE>) -> SpiStack<'_, TRACE> {
    Tis::new(SpiTis::new(SimSpi(dev), SimCs(dev)), NoDelay)
}

/// An initialised source on `dev`.
pub fn source<const TRACE: usize>(dev: &Dev<TRACE>) -> trusted_core::Result<Src<'_, TRACE>> {
    let mut src = TpmSource::new(spi(dev), ScriptRng::counting(0));
    src.init()?;
    Ok(src)
}

/// An initialised source on `dev` with the SRK at 0x81000001 created by it
/// (and found again by a second provision).
pub fn provisioned<const TRACE: usize>(dev: &Dev<TRACE>) -> trusted_core::Result<Src<'_, TRACE>> {
    let mut src = source(dev)?;
    assert!(src.provision_srk(hal_tpm_spi::spec::SRK_HANDLE)?);
    assert!(
        !src.provision_srk(hal_tpm_spi::spec::SRK_HANDLE)?,
        "second provision finds the SRK"
    );
    Ok(src)
}

/// Runs a tpm2-tools command (`args[0]`) against `tcti`; the error carries
/// the install hint if tpm2-tools is missing, or its stderr if it fails.
pub fn tpm2_tool(tcti: &str, dir: &std::path::Path, args: &[&str]) -> Result<Vec<u8>, String> {
    let (prog, rest) = args.split_first().ok_or("no tpm2-tools command")?;
    let out = std::process::Command::new(prog)
        .args(rest)
        .env("TPM2TOOLS_TCTI", tcti)
        .current_dir(dir)
        .output()
        .map_err(|e| {
            format!("{prog} not runnable ({e}): apt-get install swtpm swtpm-tools tpm2-tools")
        })?;
    if !out.status.success() {
        return Err(format!(
            "{prog} {rest:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(out.stdout)
}

/// Writes `blob`'s TPM2B_PUBLIC and TPM2B_PRIVATE (the DER octet strings
/// are exactly tpm2-tools' files) as `NAME.pub` / `NAME.priv` in `dir` and
/// loads them with `tpm2_load` under 0x81000001 as `NAME.ctx`, adding
/// `auth` (e.g. `["-P", "session:s.ctx"]`).
pub fn tools_load(
    tcti: &str,
    dir: &std::path::Path,
    blob: &[u8],
    name: &str,
    auth: &[&str],
) -> Result<(), String> {
    let d = hal_tpm_spi::blob::decode(blob);
    let (public, private, ctx) = (
        format!("{name}.pub"),
        format!("{name}.priv"),
        format!("{name}.ctx"),
    );
    std::fs::write(dir.join(&public), d.public).map_err(|e| e.to_string())?;
    std::fs::write(dir.join(&private), d.private).map_err(|e| e.to_string())?;
    let mut args = vec!["tpm2_load", "-Q", "-C", "0x81000001"];
    args.extend(auth);
    args.extend(["-u", &public, "-r", &private, "-c", &ctx]);
    tpm2_tool(tcti, dir, &args).map(|_| ())
}

/// Seals `secret` with `tpm2_create -i` under 0x81000001, `extra` (e.g. a
/// policy and attributes) added before `-i`, flushes the transient
/// contexts, and returns the object's TPM2B_PRIVATE and TPM2B_PUBLIC files.
pub fn tools_create(
    tcti: &str,
    dir: &std::path::Path,
    secret: &[u8],
    extra: &[&str],
) -> Result<(Vec<u8>, Vec<u8>), String> {
    std::fs::write(dir.join("secret.bin"), secret).map_err(|e| e.to_string())?;
    let mut args = vec!["tpm2_create", "-Q", "-C", "0x81000001"];
    args.extend(extra);
    args.extend(["-i", "secret.bin", "-u", "t.pub", "-r", "t.priv"]);
    tpm2_tool(tcti, dir, &args)?;
    tpm2_tool(tcti, dir, &["tpm2_flushcontext", "-t"])?;
    let read = |file: &str| std::fs::read(dir.join(file)).map_err(|e| e.to_string());
    Ok((read("t.priv")?, read("t.pub")?))
}

/// Opens `blob` with tpm2-tools in a salted HMAC session of their own
/// (`tpm2_startauthsession --hmac-session -c 0x81000001` as `s.ctx`):
/// loads it as `NAME.ctx` and unseals it, both under that session, and
/// returns the secret. The caller flushes `s.ctx` and the transient
/// object (a benchmark keeps that out of its timing).
pub fn tools_unseal_in_hmac_session(
    tcti: &str,
    dir: &std::path::Path,
    blob: &[u8],
    name: &str,
) -> Result<Vec<u8>, String> {
    tpm2_tool(
        tcti,
        dir,
        &[
            "tpm2_startauthsession",
            "--hmac-session",
            "-c",
            "0x81000001",
            "-S",
            "s.ctx",
        ],
    )?;
    tools_load(tcti, dir, blob, name, &["-P", "session:s.ctx"])?;
    let ctx = format!("{name}.ctx");
    tpm2_tool(
        tcti,
        dir,
        &["tpm2_unseal", "-c", &ctx, "-p", "session:s.ctx"],
    )
}

/// A fresh directory for one test's files.
pub fn temp_dir(tag: &str) -> std::io::Result<std::path::PathBuf> {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let d = std::env::temp_dir().join(format!("hal-tpm-spi-{tag}-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&d)?;
    Ok(d)
}

/// A transport that records the size and command code of every exchange.
pub struct Counting<T> {
    pub inner: T,
    /// (command bytes, response bytes) per exchange.
    pub sizes: Vec<(usize, usize)>,
    /// Command code per exchange.
    pub codes: Vec<u32>,
}

impl<T> Counting<T> {
    pub fn new(inner: T) -> Self {
        Self {
            inner,
            sizes: vec![],
            codes: vec![],
        }
    }

    pub fn clear(&mut self) {
        self.sizes.clear();
        self.codes.clear();
    }

    /// Distinct commands: a resend after TPM_RC_RETRY is the same command.
    pub fn commands(&self) -> usize {
        let mut c = self.codes.clone();
        c.dedup();
        c.len()
    }

    /// The SPI floor of what crossed: every command and response as
    /// 64-byte frames with a 4-byte header each, nothing else.
    pub fn floor(&self) -> usize {
        self.sizes
            .iter()
            .map(|(c, r)| frames(*c) + frames(*r))
            .sum()
    }

    /// Command and response bytes.
    pub fn payload(&self) -> usize {
        self.sizes.iter().map(|(c, r)| c + r).sum()
    }
}

impl<T: Transport> Transport for Counting<T> {
    fn probe(&mut self) -> hal_tpm_spi::Result<()> {
        self.inner.probe()
    }
    fn transact(&mut self, cmd: &[u8], rsp: &mut [u8]) -> hal_tpm_spi::Result<usize> {
        if let Some(&[a, b, c, d]) = cmd.get(6..10) {
            self.codes.push(u32::from_be_bytes([a, b, c, d]));
        }
        let n = self.inner.transact(cmd, rsp)?;
        self.sizes.push((cmd.len(), n));
        Ok(n)
    }
}

/// SPI bytes of `n` payload bytes in 64-byte frames with 4-byte headers.
pub fn frames(n: usize) -> usize {
    n + 4 * n.div_ceil(64)
}

/// The bus as four byte streams: everything the host clocked out (MOSI),
/// everything the TPM drove (MISO), and the FIFO data alone in each
/// direction (commands as sent, responses as received, without the SPI
/// headers that split them into frames).
#[derive(Default)]
pub struct BusStreams {
    pub mosi: Vec<u8>,
    pub miso: Vec<u8>,
    pub commands: Vec<u8>,
    pub responses: Vec<u8>,
}

impl BusStreams {
    /// Splits a trace recorded without wait states.
    pub fn from_trace(trace: &[TraceEvent]) -> Self {
        let mut s = Self::default();
        let mut frame: Vec<(u8, u8)> = Vec::new();
        let flush = |frame: &mut Vec<(u8, u8)>, s: &mut Self| {
            if let ([(h0, _), _, _, (addr_lo, _)], data) =
                frame.split_at(SPI_HEADER_LEN.min(frame.len()))
                && u16::from(*addr_lo) == TPM_DATA_FIFO
            {
                if h0 & SPI_READ != 0 {
                    s.responses.extend(data.iter().map(|b| b.1));
                } else {
                    s.commands.extend(data.iter().map(|b| b.0));
                }
            }
            frame.clear();
        };
        for e in trace {
            match *e {
                TraceEvent::Cs(_) => flush(&mut frame, &mut s),
                TraceEvent::Byte { mosi, miso } => {
                    s.mosi.push(mosi);
                    s.miso.push(miso);
                    frame.push((mosi, miso));
                }
            }
        }
        flush(&mut frame, &mut s);
        s
    }

    /// Where `needle` occurs in any of the four streams, by stream name.
    pub fn find(&self, needle: &[u8]) -> Vec<&'static str> {
        [
            ("MOSI", &self.mosi),
            ("MISO", &self.miso),
            ("FIFO commands", &self.commands),
            ("FIFO responses", &self.responses),
        ]
        .into_iter()
        .filter(|(_, hay)| !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle))
        .map(|(name, _)| name)
        .collect()
    }

    /// Every 8-byte window of `secret` (and `secret` itself) found on the
    /// bus, with the streams it was found in.
    pub fn leaks(&self, secret: &[u8]) -> Vec<(usize, Vec<&'static str>)> {
        let mut found = Vec::new();
        let whole = self.find(secret);
        if !whole.is_empty() {
            found.push((usize::MAX, whole));
        }
        for (i, w) in secret.windows(8.min(secret.len())).enumerate() {
            let at = self.find(w);
            if !at.is_empty() {
                found.push((i, at));
            }
        }
        found
    }
}
