//! swtpm behind the sim (feature `swtpm`, std only): a [`SwtpmBackend`]
//! speaking swtpm's raw TCP command channel, and [`SwtpmProcess`], a swtpm
//! child on a free loopback port that is killed and reaped on drop.
//!
//! swtpm serves one client connection at a time: drop the backend (close
//! the socket) before tpm2-tools talks to the same instance.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::string::{String, ToString};
use std::time::{Duration, Instant};
use std::{format, vec};

use super::{BackendError, TpmBackend};

/// What to install when swtpm is missing.
pub const INSTALL_HINT: &str =
    "swtpm is not installed: apt-get install swtpm swtpm-tools tpm2-tools";

/// The swtpm TCP command channel (raw TPM 2.0 bytes, no framing).
pub struct SwtpmBackend {
    stream: TcpStream,
}

impl SwtpmBackend {
    /// Connects to `addr` (e.g. `127.0.0.1:2321`).
    pub fn connect(addr: impl ToSocketAddrs) -> std::io::Result<Self> {
        let stream = TcpStream::connect(addr)?;
        stream.set_read_timeout(Some(Duration::from_secs(60)))?;
        stream.set_nodelay(true)?;
        Ok(Self { stream })
    }
}

impl TpmBackend for SwtpmBackend {
    fn execute(&mut self, command: &[u8], response: &mut [u8]) -> Result<usize, BackendError> {
        self.stream.write_all(command).map_err(|_| BackendError)?;
        let header = response.get_mut(..10).ok_or(BackendError)?;
        self.stream.read_exact(header).map_err(|_| BackendError)?;
        let size = match header.get(2..6) {
            Some(&[a, b, c, d]) => u32::from_be_bytes([a, b, c, d]) as usize,
            _ => return Err(BackendError),
        };
        if size < 10 {
            return Err(BackendError);
        }
        match response.get_mut(10..size) {
            Some(rest) => self.stream.read_exact(rest).map_err(|_| BackendError)?,
            None => {
                // Too large for the FIFO: drain it so the link stays in step.
                let mut sink = vec![0u8; size - 10];
                self.stream
                    .read_exact(&mut sink)
                    .map_err(|_| BackendError)?;
                return Err(BackendError);
            }
        }
        Ok(size)
    }
}

/// A `swtpm socket --tpm2` child process on 127.0.0.1, with its state in a
/// fresh directory; killed, reaped and cleaned up on drop.
pub struct SwtpmProcess {
    child: Child,
    port: u16,
    state_dir: PathBuf,
}

/// Ports this process has handed to a swtpm. `bind(0)` may return a port
/// again once its listener is dropped, and two tests starting swtpm at the
/// same time must not share a pair: the second's probe would reach the
/// first's swtpm (its own one having failed to bind), and find nothing
/// once that test ends ("connection refused", seen on a loaded machine).
static GIVEN: std::sync::Mutex<vec::Vec<u16>> = std::sync::Mutex::new(vec::Vec::new());

/// A port P with P+1 free too, neither next to a pair handed out before.
fn free_port_pair() -> Option<u16> {
    let mut given = GIVEN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    for _ in 0..50 {
        let l = TcpListener::bind("127.0.0.1:0").ok()?;
        let port = l.local_addr().ok()?.port();
        let near_given = given.iter().any(|&g| g.abs_diff(port) <= 1);
        if !near_given && port < u16::MAX && TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            given.push(port);
            return Some(port);
        }
    }
    None
}

impl SwtpmProcess {
    /// Starts swtpm (`--flags not-need-init,startup-clear`) on a free port
    /// pair P (TPM commands) and P+1 (control) and waits until it accepts.
    /// A missing swtpm binary is an error whose text says what to install.
    pub fn start() -> Result<Self, String> {
        Self::start_with_state(None)
    }

    /// [`SwtpmProcess::start`] on a saved TPM state: `permall` is the
    /// `tpm2-00.permall` file swtpm keeps in its state directory (a TPM
    /// whose storage key sealed a test vector), or `None` for a fresh TPM.
    pub fn start_with_state(permall: Option<&[u8]>) -> Result<Self, String> {
        static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let mut last_err = String::new();
        for _ in 0..5 {
            let port = free_port_pair().ok_or("no free loopback port pair")?;
            let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let state_dir =
                std::env::temp_dir().join(format!("hal-tpm-spi-swtpm-{}-{n}", std::process::id()));
            std::fs::create_dir_all(&state_dir).map_err(|e| e.to_string())?;
            if let Some(state) = permall {
                std::fs::write(state_dir.join("tpm2-00.permall"), state)
                    .map_err(|e| e.to_string())?;
            }
            let spawned = Command::new("swtpm")
                .arg("socket")
                .arg("--tpm2")
                .arg("--server")
                .arg(format!("type=tcp,port={port},bindaddr=127.0.0.1"))
                .arg("--ctrl")
                .arg(format!("type=tcp,port={},bindaddr=127.0.0.1", port + 1))
                .arg("--tpmstate")
                .arg(format!("dir={}", state_dir.display()))
                .arg("--flags")
                .arg("not-need-init,startup-clear")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn();
            let child = match spawned {
                Ok(c) => c,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    let _ = std::fs::remove_dir_all(&state_dir);
                    return Err(INSTALL_HINT.to_string());
                }
                Err(e) => return Err(format!("cannot start swtpm: {e}")),
            };
            let mut p = Self {
                child,
                port,
                state_dir,
            };
            match p.wait_until_serving() {
                Ok(()) => return Ok(p),
                Err(e) => last_err = e,
            }
            drop(p);
        }
        Err(last_err)
    }

    /// Waits (10 s at most) until both of the swtpm's ports accept, then
    /// checks it is still running: a swtpm that could not bind one of
    /// them exits, and whatever accepted is not it.
    fn wait_until_serving(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        let accepts = |port: u16| TcpStream::connect(("127.0.0.1", port)).is_ok();
        loop {
            match self.child.try_wait() {
                Ok(None) => {}
                Ok(Some(status)) => {
                    let port = self.port;
                    return Err(format!("swtpm exited early ({status}); port {port} taken?"));
                }
                Err(e) => return Err(format!("cannot watch swtpm: {e}")),
            }
            if accepts(self.port) && accepts(self.port + 1) {
                std::thread::sleep(Duration::from_millis(20));
                if matches!(self.child.try_wait(), Ok(None)) {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                return Err("swtpm did not accept connections within 10 s".to_string());
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// The TPM command port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The `TPM2TOOLS_TCTI` value for tpm2-tools on this instance.
    pub fn tcti(&self) -> String {
        format!("swtpm:host=127.0.0.1,port={}", self.port)
    }

    /// A new backend connection (one at a time: swtpm serves one client).
    pub fn connect(&self) -> std::io::Result<SwtpmBackend> {
        SwtpmBackend::connect(("127.0.0.1", self.port))
    }
}

impl Drop for SwtpmProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.state_dir);
    }
}
