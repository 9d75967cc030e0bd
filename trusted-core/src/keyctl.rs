//! keyctl payload grammar (in progress).
