//! A backend that answers with canned responses, in order.

use super::{BackendError, TpmBackend};

/// Answers the n-th command with `responses[n]`; after the last one every
/// command gets [`BackendError`] (TPM_RC_FAILURE on the bus).
pub struct CannedBackend<'a> {
    responses: &'a [&'a [u8]],
    next: usize,
    last_command_code: u32,
}

impl<'a> CannedBackend<'a> {
    /// Canned answers in order.
    pub fn new(responses: &'a [&'a [u8]]) -> Self {
        Self {
            responses,
            next: 0,
            last_command_code: 0,
        }
    }

    /// Commands executed so far.
    pub fn executed(&self) -> usize {
        self.next
    }

    /// Command code of the last command seen.
    pub fn last_command_code(&self) -> u32 {
        self.last_command_code
    }
}

impl TpmBackend for CannedBackend<'_> {
    fn execute(&mut self, command: &[u8], response: &mut [u8]) -> Result<usize, BackendError> {
        if let Some(&[a, b, c, d]) = command.get(6..10) {
            self.last_command_code = u32::from_be_bytes([a, b, c, d]);
        }
        let canned = self.responses.get(self.next).ok_or(BackendError)?;
        self.next += 1;
        let dst = response.get_mut(..canned.len()).ok_or(BackendError)?;
        dst.copy_from_slice(canned);
        Ok(canned.len())
    }
}
