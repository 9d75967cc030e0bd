//! TPM 2.0 definitions from the TCG *TPM 2.0 Library*, Part 2 (Structures):
//! the numbers this crate puts on the wire and reads back, in one place.
//! Section numbers are those of Part 2. Constants only, plus
//! [`ResponseCode`], the response-code type with its names.
//!
//! `trusted_core::keyctl::HashAlgo::tpm_alg_id` repeats the hash ids of
//! [`alg`] (trusted-core cannot depend on this crate).

use core::fmt;

/// TPM 2.0 command and response header length: tag (2), size (4), command
/// or response code (4).
pub const HEADER_LEN: usize = 10;

/// Persistent handle of the storage root key by convention (TCG TPM v2.0
/// Provisioning Guidance: the first SRK handle, as Linux `keyhandle=`).
pub const SRK_HANDLE: u32 = 0x8100_0001;

/// Command codes (§6.5.2, TPM_CC).
pub mod cc {
    /// TPM2_EvictControl.
    pub const EVICT_CONTROL: u32 = 0x120;
    /// TPM2_CreatePrimary.
    pub const CREATE_PRIMARY: u32 = 0x131;
    /// TPM2_SelfTest.
    pub const SELF_TEST: u32 = 0x143;
    /// TPM2_Startup.
    pub const STARTUP: u32 = 0x144;
    /// TPM2_Create.
    pub const CREATE: u32 = 0x153;
    /// TPM2_Load.
    pub const LOAD: u32 = 0x157;
    /// TPM2_Unseal.
    pub const UNSEAL: u32 = 0x15E;
    /// TPM2_FlushContext.
    pub const FLUSH_CONTEXT: u32 = 0x165;
    /// TPM2_ReadPublic.
    pub const READ_PUBLIC: u32 = 0x173;
    /// TPM2_StartAuthSession.
    pub const START_AUTH_SESSION: u32 = 0x176;
    /// TPM2_GetCapability.
    pub const GET_CAPABILITY: u32 = 0x17A;
    /// TPM2_GetRandom.
    pub const GET_RANDOM: u32 = 0x17B;
    /// TPM2_PCR_Read.
    pub const PCR_READ: u32 = 0x17E;
    /// TPM2_PolicyPCR.
    pub const POLICY_PCR: u32 = 0x17F;
    /// TPM2_PCR_Extend.
    pub const PCR_EXTEND: u32 = 0x182;
    /// TPM2_PolicyGetDigest.
    pub const POLICY_GET_DIGEST: u32 = 0x189;
}

/// Algorithm identifiers (§6.3, TPM_ALG_ID; TCG Algorithm Registry).
pub mod alg {
    pub use trusted_core::keyctl::tpm_alg::{SHA1, SHA256, SHA384, SHA512, SM3_256};

    /// TPM_ALG_AES.
    pub const AES: u16 = 0x0006;
    /// TPM_ALG_KEYEDHASH: the type of a sealed data object.
    pub const KEYEDHASH: u16 = 0x0008;
    /// TPM_ALG_NULL: no algorithm (no scheme, no KDF, unsalted).
    pub const NULL: u16 = 0x0010;
    /// TPM_ALG_ECC.
    pub const ECC: u16 = 0x0023;
    /// TPM_ALG_CFB: the symmetric mode of storage keys and sessions.
    pub const CFB: u16 = 0x0043;

    /// Digest size of a hash algorithm, if known.
    pub const fn digest_size(hash: u16) -> Option<usize> {
        match hash {
            SHA1 => Some(20),
            SHA256 | SM3_256 => Some(32),
            SHA384 => Some(48),
            SHA512 => Some(64),
            _ => None,
        }
    }
}

/// ECC curves (§6.4, TPM_ECC_CURVE).
pub mod ecc {
    /// TPM_ECC_NIST_P256.
    pub const NIST_P256: u16 = 0x0003;
}

/// Structure tags (§6.9, TPM_ST).
pub mod st {
    /// TPM_ST_RSP_COMMAND: a TPM 1.2-format error answer to a bad tag.
    pub const RSP_COMMAND: u16 = 0x00C4;
    /// TPM_ST_NO_SESSIONS: no authorization area.
    pub const NO_SESSIONS: u16 = 0x8001;
    /// TPM_ST_SESSIONS: an authorization area follows the handles.
    pub const SESSIONS: u16 = 0x8002;
}

/// Startup types (§6.10, TPM_SU).
pub mod su {
    /// TPM_SU_CLEAR: a TPM Reset or Restart.
    pub const CLEAR: u16 = 0x0000;
}

/// Session types (§6.11, TPM_SE).
pub mod se {
    /// TPM_SE_HMAC.
    pub const HMAC: u8 = 0x00;
    /// TPM_SE_POLICY.
    pub const POLICY: u8 = 0x01;
    /// TPM_SE_TRIAL: a policy session that only computes the digest.
    pub const TRIAL: u8 = 0x03;
}

/// Session attributes (§8.4, TPMA_SESSION).
pub mod sa {
    /// continueSession: keep the session after a successful command.
    pub const CONTINUE_SESSION: u8 = 0x01;
    /// decrypt: the first command parameter is encrypted.
    pub const DECRYPT: u8 = 0x20;
    /// encrypt: the first response parameter is encrypted.
    pub const ENCRYPT: u8 = 0x40;
}

/// Capabilities (§6.12, TPM_CAP).
pub mod cap {
    /// TPM_CAP_TPM_PROPERTIES.
    pub const TPM_PROPERTIES: u32 = 0x0000_0006;
}

/// TPM properties (§6.13, TPM_PT).
pub mod pt {
    /// TPM_PT_MANUFACTURER (PT_FIXED + 5): the vendor's four characters.
    pub const MANUFACTURER: u32 = 0x105;
}

/// Permanent handles (§7.4, TPM_RH).
pub mod rh {
    /// TPM_RH_OWNER: the storage hierarchy.
    pub const OWNER: u32 = 0x4000_0001;
    /// TPM_RH_NULL.
    pub const NULL: u32 = 0x4000_0007;
    /// TPM_RS_PW: the password session.
    pub const PW: u32 = 0x4000_0009;
    /// TPM_RH_ENDORSEMENT.
    pub const ENDORSEMENT: u32 = 0x4000_000B;
    /// TPM_RH_PLATFORM.
    pub const PLATFORM: u32 = 0x4000_000C;
}

/// Object attributes (§8.3, TPMA_OBJECT).
pub mod attr {
    /// fixedTPM: the object cannot be duplicated.
    pub const FIXED_TPM: u32 = 0x0000_0002;
    /// fixedParent: the object cannot move to another parent.
    pub const FIXED_PARENT: u32 = 0x0000_0010;
    /// sensitiveDataOrigin: the TPM generated the sensitive part.
    pub const SENSITIVE_DATA_ORIGIN: u32 = 0x0000_0020;
    /// userWithAuth: the authValue (password or HMAC) authorizes use.
    pub const USER_WITH_AUTH: u32 = 0x0000_0040;
    /// noDA: no dictionary-attack protection.
    pub const NO_DA: u32 = 0x0000_0400;
    /// restricted: a storage or signing key for TPM-made data only.
    pub const RESTRICTED: u32 = 0x0001_0000;
    /// decrypt: a storage (parent) key.
    pub const DECRYPT: u32 = 0x0002_0000;
}

/// A TPM 2.0 response code (§6.6, TPM_RC). The associated constants are the
/// codes this crate names; any other value is kept as it came.
///
/// Format-1 codes (bit 7 set) carry the handle, session or parameter they
/// blame in bits 6 and 8..11: [`ResponseCode::base`] strips it, so
/// `0x98e` (AUTH_FAIL on session 1) compares equal to
/// [`ResponseCode::AUTH_FAIL`] after `base()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ResponseCode(pub u32);

/// Defines each named code once: the constant and the name Display prints.
macro_rules! response_codes {
    ($($(#[$doc:meta])* $name:ident = $value:literal;)*) => {
        impl ResponseCode {
            $($(#[$doc])* pub const $name: Self = Self($value);)*
        }

        const NAMES: &[(u32, &str)] = &[$(($value, concat!("TPM_RC_", stringify!($name)))),*];
    };
}

response_codes! {
    /// TPM_RC_SUCCESS.
    SUCCESS = 0x000;
    /// TPM_RC_INITIALIZE: TPM2_Startup was already sent.
    INITIALIZE = 0x100;
    /// TPM_RC_FAILURE: the TPM is in failure mode.
    FAILURE = 0x101;
    /// TPM_RC_SEQUENCE: improper use of a sequence handle.
    SEQUENCE = 0x103;
    /// TPM_RC_DISABLED: the command is disabled.
    DISABLED = 0x120;
    /// TPM_RC_AUTH_MISSING: the command needs an authorization session.
    AUTH_MISSING = 0x125;
    /// TPM_RC_POLICY: the policy session does not fit the command.
    POLICY = 0x126;
    /// TPM_RC_PCR: PCR check failed.
    PCR = 0x127;
    /// TPM_RC_PCR_CHANGED: a PCR changed since the policy session checked it.
    PCR_CHANGED = 0x128;
    /// TPM_RC_TOO_MANY_CONTEXTS: out of context-gap room.
    TOO_MANY_CONTEXTS = 0x12E;
    /// TPM_RC_AUTH_UNAVAILABLE: the authValue or authPolicy is not
    /// available for the selected entity (a password offered for a
    /// policy-only object).
    AUTH_UNAVAILABLE = 0x12F;
    /// TPM_RC_REBOOT: the TPM needs a reboot.
    REBOOT = 0x130;
    /// TPM_RC_COMMAND_SIZE: the command size field is wrong.
    COMMAND_SIZE = 0x142;
    /// TPM_RC_COMMAND_CODE: the command code is not supported.
    COMMAND_CODE = 0x143;
    /// TPM_RC_AUTHSIZE: the authorization area size is wrong.
    AUTHSIZE = 0x144;
    /// TPM_RC_AUTH_CONTEXT: an authorization area where none is allowed.
    AUTH_CONTEXT = 0x145;
    /// TPM_RC_ATTRIBUTES: inconsistent attributes.
    ATTRIBUTES = 0x082;
    /// TPM_RC_HASH: hash algorithm not supported or not appropriate.
    HASH = 0x083;
    /// TPM_RC_VALUE: a value out of range.
    VALUE = 0x084;
    /// TPM_RC_HIERARCHY: the hierarchy is disabled or not valid.
    HIERARCHY = 0x085;
    /// TPM_RC_TYPE: wrong object type.
    TYPE = 0x08A;
    /// TPM_RC_HANDLE: the handle does not reference a loaded object.
    HANDLE = 0x08B;
    /// TPM_RC_RANGE: a value outside the allowed range.
    RANGE = 0x08D;
    /// TPM_RC_AUTH_FAIL: wrong authorization (counts toward lockout).
    AUTH_FAIL = 0x08E;
    /// TPM_RC_NONCE: invalid nonce size or nonce value mismatch.
    NONCE = 0x08F;
    /// TPM_RC_SCHEME: unsupported or wrong scheme.
    SCHEME = 0x092;
    /// TPM_RC_SIZE: a structure is the wrong size.
    SIZE = 0x095;
    /// TPM_RC_SYMMETRIC: unsupported symmetric algorithm or key size.
    SYMMETRIC = 0x096;
    /// TPM_RC_TAG: incorrect structure tag.
    TAG = 0x097;
    /// TPM_RC_SELECTOR: union selector is incorrect.
    SELECTOR = 0x098;
    /// TPM_RC_INSUFFICIENT: the input was too short.
    INSUFFICIENT = 0x09A;
    /// TPM_RC_KEY: the key is not appropriate.
    KEY = 0x09C;
    /// TPM_RC_POLICY_FAIL: the policy check failed.
    POLICY_FAIL = 0x09D;
    /// TPM_RC_INTEGRITY: an integrity check failed (wrong parent, tampered
    /// private area).
    INTEGRITY = 0x09F;
    /// TPM_RC_RESERVED_BITS: reserved bits not set to zero.
    RESERVED_BITS = 0x0A1;
    /// TPM_RC_BAD_AUTH: authorization failure without dictionary-attack
    /// implications.
    BAD_AUTH = 0x0A2;
    /// TPM_RC_OBJECT_MEMORY: out of object slots.
    OBJECT_MEMORY = 0x902;
    /// TPM_RC_SESSION_MEMORY: out of session slots.
    SESSION_MEMORY = 0x903;
    /// TPM_RC_LOCALITY: command not allowed from this locality.
    LOCALITY = 0x907;
    /// TPM_RC_YIELDED: the TPM suspended the command; send it again.
    YIELDED = 0x908;
    /// TPM_RC_CANCELED: the command was canceled.
    CANCELED = 0x909;
    /// TPM_RC_TESTING: the TPM is self-testing; send it again.
    TESTING = 0x90A;
    /// TPM_RC_NV_RATE: NV writes are rate limited.
    NV_RATE = 0x920;
    /// TPM_RC_LOCKOUT: dictionary-attack lockout.
    LOCKOUT = 0x921;
    /// TPM_RC_RETRY: the TPM was busy; send the command again.
    RETRY = 0x922;
    /// TPM_RC_NV_UNAVAILABLE: NV is not available now.
    NV_UNAVAILABLE = 0x923;
}

/// RC_FMT1: bit 7 marks a format-1 code.
const RC_FMT1: u32 = 0x080;
/// TPM_RC_P: in a format-1 code, the number is a parameter's.
const RC_P: u32 = 0x040;
/// TPM_RC_S: in a format-1 code without P, the number is a session's.
const RC_S: u32 = 0x800;

impl ResponseCode {
    /// True for a format-1 code (one that blames a handle, session or
    /// parameter).
    pub const fn is_format1(self) -> bool {
        self.0 & RC_FMT1 != 0
    }

    /// The code without the handle/session/parameter number of a format-1
    /// code (`0x98e` → `0x08e`); other codes unchanged.
    pub const fn base(self) -> Self {
        if self.is_format1() {
            Self(self.0 & 0xBF)
        } else {
            self
        }
    }

    /// AUTH_FAIL, BAD_AUTH, POLICY_FAIL, INTEGRITY, PCR_CHANGED and
    /// AUTH_UNAVAILABLE (password offered for a policy-only object) all mean
    /// "this blob does not open here with these credentials": reported as
    /// [`trusted_core::Error::AuthFailed`].
    pub fn is_auth_failure(self) -> bool {
        matches!(
            self.base(),
            Self::AUTH_FAIL
                | Self::BAD_AUTH
                | Self::POLICY_FAIL
                | Self::INTEGRITY
                | Self::PCR_CHANGED
                | Self::AUTH_UNAVAILABLE
        )
    }

    /// RETRY, TESTING and YIELDED: the TPM asks for the same command again.
    pub fn asks_resend(self) -> bool {
        matches!(self, Self::RETRY | Self::TESTING | Self::YIELDED)
    }

    /// `TPM_RC_…` name of the base code, if this crate names it.
    pub fn name(self) -> Option<&'static str> {
        let base = self.base().0;
        NAMES.iter().find(|(v, _)| *v == base).map(|(_, n)| *n)
    }
}

impl fmt::Display for ResponseCode {
    /// `TPM_RC_AUTH_FAIL on session 1 (0x98e)`; a code without a name here
    /// as `TPM_RC (0x…)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name)?,
            None => f.write_str("TPM_RC")?,
        }
        if self.is_format1() {
            let n = (self.0 >> 8) & 0xF;
            if self.0 & RC_P != 0 {
                write!(f, " on parameter {n}")?;
            } else if self.0 & RC_S != 0 {
                write!(f, " on session {}", n & 0x7)?;
            } else if n != 0 {
                write!(f, " on handle {n}")?;
            }
        }
        write!(f, " ({:#x})", self.0)
    }
}

impl From<u32> for ResponseCode {
    fn from(rc: u32) -> Self {
        Self(rc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format1_codes_name_their_base_and_what_they_blame() {
        let rc = ResponseCode(0x98E);
        assert_eq!(rc.base(), ResponseCode::AUTH_FAIL);
        assert!(rc.is_auth_failure());
        assert_eq!(rc.to_string(), "TPM_RC_AUTH_FAIL on session 1 (0x98e)");
        assert_eq!(
            ResponseCode(0x1C4).to_string(),
            "TPM_RC_VALUE on parameter 1 (0x1c4)"
        );
        assert_eq!(
            ResponseCode(0x18B).to_string(),
            "TPM_RC_HANDLE on handle 1 (0x18b)"
        );
        assert_eq!(ResponseCode(0x0A2).to_string(), "TPM_RC_BAD_AUTH (0xa2)");
    }

    #[test]
    fn format0_codes_keep_their_value() {
        assert_eq!(ResponseCode(0x922), ResponseCode::RETRY);
        assert_eq!(ResponseCode::RETRY.base(), ResponseCode::RETRY);
        assert!(ResponseCode::RETRY.asks_resend() && ResponseCode::TESTING.asks_resend());
        assert!(!ResponseCode::FAILURE.asks_resend());
        assert!(ResponseCode::PCR_CHANGED.is_auth_failure());
        assert!(ResponseCode::AUTH_UNAVAILABLE.is_auth_failure());
        assert!(!ResponseCode::FAILURE.is_auth_failure());
        assert_eq!(
            ResponseCode::INITIALIZE.to_string(),
            "TPM_RC_INITIALIZE (0x100)"
        );
        assert_eq!(ResponseCode(0x17F).to_string(), "TPM_RC (0x17f)");
    }
}
