//! TPM 2.0 command framing over any [`Transport`]: the [`Tpm`] with its
//! command and response buffers, the authorization area ([`Auth`]), header
//! checks and resends, and the commands every boot sends (Startup,
//! SelfTest, GetCapability). Object commands are in [`crate::object`], PCR
//! policy in [`crate::policy`], the numbers in [`crate::spec`].
//!
//! Marshalling is this crate's own (a writer and a reader of ~150 lines)
//! rather than `tpm2-protocol`: that crate needs Rust 1.95 (the workspace
//! declares 1.89) and its generic TPM2B types are sized for the whole spec,
//! where seal/unseal needs 16 commands and a 1 KiB buffer. Its rules are
//! kept: no alloc, no panics, every response is untrusted input and every
//! read checks its bound first.
//!
//! Authorization ([`Auth`]) is by password session (`TPM_RS_PW`), by a
//! policy session without HMAC (as Linux does when its HMAC sessions are
//! off), or, with feature `sessions`, by a salted HMAC or policy session
//! ([`crate::salted`]): then the command's first parameter may go out
//! encrypted, the authValue is only an HMAC key, and the response's HMAC is
//! checked before any of its bytes are used (see the README's threat model).

use heapless::Vec;
use zeroize::Zeroize;

use crate::error::{Error, Result};
use crate::marshal::{Reader, Writer};
use crate::spec::{HEADER_LEN, ResponseCode, cap, cc, rh, st, su};

/// Sends one command and receives its response.
///
/// Link errors are `Err`; a TPM error code arrives in an `Ok` response and
/// is checked by [`Tpm`] (tpm-rs `Connection::transact` shape).
pub trait Transport {
    /// Checks that a TPM is there ([`Error::NoDevice`] if not).
    fn probe(&mut self) -> Result<()> {
        Ok(())
    }

    /// Sends `cmd`, writes the response into `rsp`, returns its length.
    fn transact(&mut self, cmd: &[u8], rsp: &mut [u8]) -> Result<usize>;
}

impl<T: Transport + ?Sized> Transport for &mut T {
    fn probe(&mut self) -> Result<()> {
        (**self).probe()
    }
    fn transact(&mut self, cmd: &[u8], rsp: &mut [u8]) -> Result<usize> {
        (**self).transact(cmd, rsp)
    }
}

/// Resends of a command the TPM answered with RETRY/TESTING/YIELDED.
const MAX_RETRIES: u32 = 16;

/// Command buffer size (the largest command here, Create with a 128-byte
/// key, 64-byte policy and 32-byte auth, is ~300 bytes).
pub const CMD_BUF: usize = 512;
/// Response buffer size (CreatePrimary of an ECC key is ~500 bytes).
pub const RSP_BUF: usize = 1024;

/// A digest or name of at most 66 bytes (u16 algorithm + SHA-512).
pub type Digest = Vec<u8, 66>;

/// How a command's one authorized handle is authorized.
pub enum Auth<'a> {
    /// Password session `TPM_RS_PW` with the auth value in clear.
    Password(&'a [u8]),
    /// A policy session (no HMAC; `password` is sent as the hmac field, as
    /// Linux does with `policyhandle=`, so only PolicyPassword or no
    /// password works). continueSession is clear: the TPM flushes the
    /// session after a successful command.
    Policy {
        /// Session handle (0x03xx_xxxx).
        session: u32,
        /// Sent in the hmac field.
        password: &'a [u8],
    },
    /// A salted HMAC or policy session (feature `sessions`): the command is
    /// HMAC'd with the session key and the authValue, the first parameter
    /// goes out encrypted where the command has a secret one (Create), the
    /// response's HMAC is checked before any byte of it is used and its
    /// first parameter comes back encrypted where it is a secret (Unseal,
    /// GetRandom).
    #[cfg(feature = "sessions")]
    Session(crate::salted::SessionAuth<'a>),
}

impl Auth<'_> {
    /// Sets the session attributes for a command whose first parameters
    /// may be encrypted as `param_enc` (`sa::DECRYPT`, `sa::ENCRYPT`);
    /// nothing for password and plain policy sessions.
    pub(crate) fn prepare(&mut self, param_enc: u8) {
        #[cfg(feature = "sessions")]
        if let Auth::Session(s) = self {
            s.prepare(param_enc);
        }
        let _ = param_enc;
    }

    /// The authorization area with this one session (Part 1 §18.6). A
    /// salted session's hmac is a placeholder here, filled in by
    /// [`Tpm::authorize`] once the parameters are written.
    pub(crate) fn marshal(&self, w: &mut Writer<'_>) {
        let (handle, hmac) = match self {
            Auth::Password(p) => (rh::PW, *p),
            Auth::Policy { session, password } => (*session, *password),
            #[cfg(feature = "sessions")]
            Auth::Session(s) => {
                s.marshal(w);
                return;
            }
        };
        // The area's size, known up front (4 + 2 + 1 + 2 + hmac; a hmac
        // too long for its TPM2B fails the command at `finish`), then
        // sessionHandle, empty nonceCaller, attributes 0, hmac.
        let size = (9 + hmac.len()) as u32;
        w.u32(size).u32(handle).u16(0).u8(0).tpm2b(hmac);
    }
}

/// A TPM 2.0 behind a [`Transport`], with its command and response buffers
/// (both zeroed after use and on drop: they carry secrets).
pub struct Tpm<T> {
    transport: T,
    cmd: [u8; CMD_BUF],
    rsp: [u8; RSP_BUF],
    commands: u32,
    nonce_counter: u32,
}

/// The parsed frame of a successful response.
pub(crate) struct Response<'a> {
    /// The response handles.
    pub(crate) handles: Reader<'a>,
    /// The parameter area (without the authorization area).
    pub(crate) params: Reader<'a>,
}

impl<T: Transport> Tpm<T> {
    /// A TPM behind `transport`.
    pub fn new(transport: T) -> Self {
        Self {
            transport,
            cmd: [0; CMD_BUF],
            rsp: [0; RSP_BUF],
            commands: 0,
            nonce_counter: 0,
        }
    }

    /// The transport, e.g. to inspect a sim.
    pub fn transport_mut(&mut self) -> &mut T {
        &mut self.transport
    }

    /// Commands sent so far.
    pub fn commands_sent(&self) -> u32 {
        self.commands
    }

    /// True when the command and response buffers are all zero (tests use
    /// it to prove error paths wipe them).
    #[doc(hidden)]
    pub fn buffers_zeroed(&self) -> bool {
        self.cmd.iter().chain(self.rsp.iter()).all(|&b| b == 0)
    }

    /// Probes the transport.
    pub fn probe(&mut self) -> Result<()> {
        self.transport.probe()
    }

    /// Starts a command that authorizes its one handle `handle` with
    /// `auth` (prepared for `param_enc`, see [`Auth::prepare`]): header,
    /// handle and authorization area. Returns the writer, at the start of
    /// the parameters. Out of line: the commands that take an
    /// authorization share it.
    #[inline(never)]
    pub(crate) fn begin(
        &mut self,
        code: u32,
        handle: u32,
        auth: &mut Auth<'_>,
        param_enc: u8,
    ) -> Writer<'_> {
        auth.prepare(param_enc);
        let mut w = self.command(st::SESSIONS, code);
        w.u32(handle);
        auth.marshal(&mut w);
        w
    }

    /// Starts a command in the command buffer: header with `tag` and
    /// `code` (the size field is filled in by [`Tpm::run`]).
    pub(crate) fn command(&mut self, tag: u16, code: u32) -> Writer<'_> {
        let mut w = Writer::new(&mut self.cmd);
        w.header(tag, code);
        w
    }

    /// Sends the `len` command bytes, checks the response header and its
    /// code; returns the response length. Resends what the TPM asks to have
    /// resent; zeroes the command buffer, and the response buffer on error.
    pub(crate) fn exchange(&mut self, len: usize) -> Result<usize> {
        self.rsp.zeroize();
        let mut tries = 0;
        let checked = loop {
            let Some(cmd) = self.cmd.get(..len) else {
                break Err(Error::CommandTooLarge);
            };
            let result = self.transport.transact(cmd, &mut self.rsp);
            self.commands = self.commands.wrapping_add(1);
            let checked = result.and_then(|n| self.check_header(n));
            // Linux tpm2_transmit retries too; libtpms answers Create with
            // RETRY now and then.
            match checked {
                Err(Error::Rc(rc)) if rc.asks_resend() && tries < MAX_RETRIES => tries += 1,
                other => break other,
            }
        };
        self.cmd.zeroize();
        if checked.is_err() {
            self.rsp.zeroize();
        }
        checked
    }

    /// The rest of every command once its bytes are written: `written`
    /// is [`Writer::finish`]'s answer; then [`Tpm::authorize`] (with
    /// `auth`, whose parameters start at `params`), [`Tpm::exchange`] and
    /// [`Tpm::response_for`] (or [`Tpm::response`] without `auth`) with
    /// `handles` response handles. One out-of-line path, so no command
    /// inlines the sequence and its error hops into its caller.
    #[inline(never)]
    pub(crate) fn run(
        &mut self,
        written: usize,
        auth: Option<&mut Auth<'_>>,
        params: usize,
        handles: usize,
    ) -> Result<Response<'_>> {
        // Anything that does not fit is `Writer::finish`'s overflow mark.
        if written > CMD_BUF {
            return Err(Error::CommandTooLarge);
        }
        let len = written;
        // The header `command` wrote: the size field is filled in here,
        // the command code read back.
        let code = match self.cmd.get_mut(2..HEADER_LEN) {
            Some([s0, s1, s2, s3, c0, c1, c2, c3]) => {
                [*s0, *s1, *s2, *s3] = (len as u32).to_be_bytes();
                u32::from_be_bytes([*c0, *c1, *c2, *c3])
            }
            _ => 0,
        };
        let mut auth = auth;
        let len = match auth.as_deref_mut() {
            Some(auth) => tri!(self.authorize(auth, code, params, len)),
            None => len,
        };
        let n = tri!(self.exchange(len));
        match auth {
            Some(auth) => self.response_for(auth, code, n, handles),
            None => self.response(n, handles),
        }
    }

    /// Zeroes the response buffer (after a response that carried a secret).
    pub(crate) fn wipe_response(&mut self) {
        self.rsp.zeroize();
    }

    fn check_header(&self, n: usize) -> Result<usize> {
        let rsp = self.rsp.get(..n).ok_or(Error::ResponseTooLarge)?;
        // The header as one array; a short one fails on the first field
        // it lacks, as reading field by field would.
        let Some(&[t0, t1, s0, s1, s2, s3, c0, c1, c2, c3]) = rsp.first_chunk::<HEADER_LEN>()
        else {
            return Err(Error::Parse(match n {
                0 | 1 => &"response tag",
                2..=5 => &"response size",
                _ => &"response code",
            }));
        };
        let tag = u16::from_be_bytes([t0, t1]);
        let size = u32::from_be_bytes([s0, s1, s2, s3]);
        let rc = ResponseCode(u32::from_be_bytes([c0, c1, c2, c3]));
        if size as usize != n {
            return Err(Error::Parse(&"response size field"));
        }
        if rc != ResponseCode::SUCCESS {
            return Err(Error::Rc(rc));
        }
        if tag != st::NO_SESSIONS && tag != st::SESSIONS {
            return Err(Error::Parse(&"response tag"));
        }
        Ok(n)
    }

    /// Finishes the authorization of a command of `len` bytes whose
    /// parameters start at `params`: for a salted session, encrypts the
    /// first parameter if the session says decrypt and fills in the HMAC
    /// over the cpHash; nothing for the other kinds. Returns `len`.
    pub(crate) fn authorize(
        &mut self,
        auth: &mut Auth<'_>,
        code: u32,
        params: usize,
        len: usize,
    ) -> Result<usize> {
        #[cfg(feature = "sessions")]
        if let Auth::Session(s) = auth {
            let cmd = self.cmd.get_mut(..len).ok_or(Error::CommandTooLarge)?;
            let result = s.authorize(cmd, code, params);
            if result.is_err() {
                self.cmd.zeroize();
            }
            return result.map(|()| len);
        }
        let _ = (auth, code, params);
        Ok(len)
    }

    /// [`Tpm::response`] for a command authorized with `auth`: for a
    /// salted session the response must carry the session's HMAC, which is
    /// checked over the rpHash before anything else is read, and its first
    /// parameter is decrypted in place if the session said encrypt. On any
    /// failure the response buffer is zeroed.
    pub(crate) fn response_for(
        &mut self,
        auth: &mut Auth<'_>,
        code: u32,
        n: usize,
        handles: usize,
    ) -> Result<Response<'_>> {
        #[cfg(feature = "sessions")]
        if let Auth::Session(s) = auth {
            let rsp = self.rsp.get_mut(..n).ok_or(Error::ResponseTooLarge)?;
            if let Err(e) = s.check_response(rsp, code, handles) {
                self.rsp.zeroize();
                return Err(e);
            }
        }
        let _ = (auth, code);
        self.response(n, handles)
    }

    /// Splits a successful response into `handles` handles and parameters.
    pub(crate) fn response(&self, n: usize, handles: usize) -> Result<Response<'_>> {
        let rsp = self.rsp.get(..n).ok_or(Error::ResponseTooLarge)?;
        // `exchange` checked the header (so this never fails): only the
        // tag is needed from it.
        let (&[t0, t1, ..], rest) = rsp
            .split_first_chunk::<HEADER_LEN>()
            .ok_or(Error::Parse(&"response header"))?;
        let tag = u16::from_be_bytes([t0, t1]);
        let mut r = Reader::new(rest);
        let h = r.bytes(4 * handles, &"response handles")?;
        let params = if tag == st::SESSIONS {
            let size = r.u32(&"parameterSize")? as usize;
            r.bytes(size, &"parameter area")?
        } else {
            r.rest()
        };
        Ok(Response {
            handles: Reader::new(h),
            params: Reader::new(params),
        })
    }

    /// A fresh caller nonce for an unsalted session without HMAC: it only
    /// has to differ from the last ones, so it is a counter, not random.
    pub(crate) fn next_nonce(&mut self) -> [u8; 16] {
        self.nonce_counter = self.nonce_counter.wrapping_add(1);
        let mut nonce = [0u8; 16];
        let (counter, commands) = nonce.split_at_mut(4);
        counter.copy_from_slice(&self.nonce_counter.to_be_bytes());
        if let Some(c) = commands.get_mut(..4) {
            c.copy_from_slice(&self.commands.to_be_bytes());
        }
        nonce
    }

    /// TPM2_Startup(CLEAR); TPM_RC_INITIALIZE (already started by earlier
    /// firmware) counts as success.
    pub fn startup(&mut self) -> Result<()> {
        let mut w = self.command(st::NO_SESSIONS, cc::STARTUP);
        w.u16(su::CLEAR);
        let written = w.finish();
        match self.run(written, None, 0, 0) {
            Ok(_) | Err(Error::Rc(ResponseCode::INITIALIZE)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// TPM2_SelfTest.
    pub fn self_test(&mut self, full: bool) -> Result<()> {
        let mut w = self.command(st::NO_SESSIONS, cc::SELF_TEST);
        w.u8(u8::from(full));
        let written = w.finish();
        self.run(written, None, 0, 0).map(|_| ())
    }

    /// TPM2_GetCapability(TPM_PROPERTIES, `property`, 1): the property's
    /// value.
    pub fn tpm_property(&mut self, property: u32) -> Result<u32> {
        let mut w = self.command(st::NO_SESSIONS, cc::GET_CAPABILITY);
        w.u32(cap::TPM_PROPERTIES).u32(property).u32(1);
        let written = w.finish();
        let mut p = self.run(written, None, 0, 0)?.params;
        let _more = p.u8(&"moreData")?;
        if p.u32(&"capability")? != cap::TPM_PROPERTIES {
            return Err(Error::Parse(&"capability"));
        }
        let count = p.u32(&"property count")?;
        for _ in 0..count.min(64) {
            let tag = p.u32(&"property")?;
            let value = p.u32(&"property value")?;
            if tag == property {
                return Ok(value);
            }
        }
        Err(Error::Parse(&"property not returned"))
    }
}

impl<T> Drop for Tpm<T> {
    fn drop(&mut self) {
        self.cmd.zeroize();
        self.rsp.zeroize();
    }
}
