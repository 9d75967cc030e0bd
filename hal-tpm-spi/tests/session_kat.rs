//! Known-answer tests for `hal_tpm_spi::session` against vectors computed
//! independently in Python (tests/vectors/session_vectors.py, with hashlib,
//! hmac and `cryptography`), plus the failure paths: an off-curve salt key,
//! a tampered response HMAC or attribute byte, a failing RNG.
#![cfg(feature = "sessions")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use hal_tpm_spi::session::{
    self, ATTR_CONTINUE_SESSION, ATTR_DECRYPT, ATTR_ENCRYPT, ENCRYPTED_SALT_SIZE, Nonce, Salt,
    SessionError, SessionKey, SessionState,
};

const VECTORS: &str = include_str!("vectors/session_vectors.txt");

/// The value of `name = hex` in the vector file.
fn v(name: &str) -> Vec<u8> {
    let line = VECTORS
        .lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| {
            let (k, val) = l.split_once('=')?;
            (k.trim() == name).then(|| val.trim())
        })
        .unwrap_or_else(|| panic!("vector {name} missing"));
    assert!(line.len() % 2 == 0, "odd hex length in {name}");
    (0..line.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&line[i..i + 2], 16).unwrap())
        .collect()
}

fn a32(name: &str) -> [u8; 32] {
    v(name)
        .try_into()
        .unwrap_or_else(|_| panic!("{name} is not 32 bytes"))
}

fn u32v(name: &str) -> u32 {
    u32::from_be_bytes(v(name).try_into().unwrap())
}

fn u8v(name: &str) -> u8 {
    let b = v(name);
    assert_eq!(b.len(), 1);
    b[0]
}

/// Hands out scripted bytes, then fails.
struct ScriptRng(Vec<u8>);

#[derive(Debug)]
struct Exhausted;
impl core::fmt::Display for Exhausted {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("script exhausted")
    }
}
impl core::error::Error for Exhausted {}

impl rand_core::TryRng for ScriptRng {
    type Error = Exhausted;
    fn try_next_u32(&mut self) -> Result<u32, Exhausted> {
        rand_core::utils::next_word_via_fill(self)
    }
    fn try_next_u64(&mut self) -> Result<u64, Exhausted> {
        rand_core::utils::next_word_via_fill(self)
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Exhausted> {
        if self.0.len() < dst.len() {
            return Err(Exhausted);
        }
        let rest = self.0.split_off(dst.len());
        dst.copy_from_slice(&self.0);
        self.0 = rest;
        Ok(())
    }
}
impl rand_core::TryCryptoRng for ScriptRng {}

fn kat_salt() -> Salt {
    let (salt, _) = session::ecdh_salt_from_scalar(
        &a32("tpm_point_x"),
        &a32("tpm_point_y"),
        &a32("eph_scalar"),
    )
    .unwrap();
    salt
}

fn kat_session_key() -> SessionKey {
    SessionKey::from_bytes(a32("session_key"))
}

/// The session right after StartAuthSession, as the KAT flow has it.
fn kat_state(attributes: u8) -> SessionState {
    SessionState::new(
        0x0200_0000,
        Some(&kat_salt()),
        b"",
        &a32("nonce_caller0"),
        &v("nonce_tpm0"),
        attributes,
    )
    .unwrap()
}

// ---- KDFs ---------------------------------------------------------------

#[test]
fn kdfa_matches_one_block_vector() {
    let mut out = [0u8; 32];
    session::kdfa(
        &v("kdfa1_key"),
        &v("kdfa1_label"),
        &v("kdfa1_u"),
        &v("kdfa1_v"),
        &mut out,
    )
    .unwrap();
    assert_eq!(out.to_vec(), v("kdfa1_out"));
}

#[test]
fn kdfa_truncates_a_non_multiple_of_32_length() {
    let mut out = [0u8; 45];
    session::kdfa(
        &v("kdfa2_key"),
        &v("kdfa2_label"),
        &v("kdfa2_u"),
        &v("kdfa2_v"),
        &mut out,
    )
    .unwrap();
    assert_eq!(out.to_vec(), v("kdfa2_out"));
}

#[test]
fn kdfe_matches_vector() {
    let out = session::kdfe(&a32("kdfe_z"), b"SECRET", &a32("kdfe_u"), &a32("kdfe_v"));
    assert_eq!(out.to_vec(), v("kdfe_out"));
}

// ---- ECDH salt ----------------------------------------------------------

#[test]
fn ecdh_salt_from_fixed_scalar_matches_python() {
    let (salt, enc) = session::ecdh_salt_from_scalar(
        &a32("tpm_point_x"),
        &a32("tpm_point_y"),
        &a32("eph_scalar"),
    )
    .unwrap();
    assert_eq!(salt.as_bytes().to_vec(), v("salt"));
    assert_eq!(enc.as_tpm2b().to_vec(), v("encrypted_salt"));
    assert_eq!(enc.as_tpm2b().len(), ENCRYPTED_SALT_SIZE);
    assert_eq!(enc.point_x().to_vec(), v("eph_point_x"));
    assert_eq!(enc.point_y().to_vec(), v("eph_point_y"));
}

#[test]
fn ecdh_salt_with_rng_uses_the_drawn_scalar() {
    let mut rng = ScriptRng(v("eph_scalar"));
    let (salt, enc) =
        session::ecdh_salt(&a32("tpm_point_x"), &a32("tpm_point_y"), &mut rng).unwrap();
    assert_eq!(salt.as_bytes().to_vec(), v("salt"));
    assert_eq!(enc.as_tpm2b().to_vec(), v("encrypted_salt"));
}

#[test]
fn ecdh_salt_redraws_an_invalid_scalar() {
    // all-ones is above the group order n, so it is rejected and redrawn
    let mut script = vec![0xFF; 32];
    script.extend(v("eph_scalar"));
    let mut rng = ScriptRng(script);
    let (salt, _) = session::ecdh_salt(&a32("tpm_point_x"), &a32("tpm_point_y"), &mut rng).unwrap();
    assert_eq!(salt.as_bytes().to_vec(), v("salt"));
}

#[test]
fn ecdh_salt_rejects_off_curve_tpm_point() {
    let mut y = a32("tpm_point_y");
    y[31] ^= 0x01;
    let err = session::ecdh_salt(
        &a32("tpm_point_x"),
        &y,
        &mut trusted_core::test_util::ScriptRng::counting(0),
    )
    .unwrap_err();
    assert_eq!(err, SessionError::NotOnCurve);
    let err =
        session::ecdh_salt_from_scalar(&a32("tpm_point_x"), &y, &a32("eph_scalar")).unwrap_err();
    assert_eq!(err, SessionError::NotOnCurve);
    // the all-zero "point" (what a TPM with an empty unique field would give)
    let err = session::ecdh_salt(
        &[0; 32],
        &[0; 32],
        &mut trusted_core::test_util::ScriptRng::counting(0),
    )
    .unwrap_err();
    assert_eq!(err, SessionError::NotOnCurve);
}

#[test]
fn ecdh_salt_reports_rng_failure() {
    let mut rng = ScriptRng(vec![0x11; 7]); // fewer bytes than one scalar
    let err = session::ecdh_salt(&a32("tpm_point_x"), &a32("tpm_point_y"), &mut rng).unwrap_err();
    assert_eq!(err, SessionError::Rng);
}

#[test]
fn ecdh_salt_gives_up_on_an_rng_of_invalid_scalars() {
    let mut rng = ScriptRng(vec![0x00; 32 * 8]); // zero scalar, forever
    let err = session::ecdh_salt(&a32("tpm_point_x"), &a32("tpm_point_y"), &mut rng).unwrap_err();
    assert_eq!(err, SessionError::Rng);
}

#[test]
fn ecdh_salt_from_scalar_rejects_zero_scalar() {
    let err = session::ecdh_salt_from_scalar(&a32("tpm_point_x"), &a32("tpm_point_y"), &[0; 32])
        .unwrap_err();
    assert_eq!(err, SessionError::Scalar);
}

// ---- sessionKey ---------------------------------------------------------

#[test]
fn session_key_matches_vector() {
    let key = SessionKey::derive(
        Some(&kat_salt()),
        b"",
        &a32("nonce_tpm0"),
        &a32("nonce_caller0"),
    )
    .unwrap();
    assert_eq!(key.as_bytes().to_vec(), v("session_key"));
    assert_eq!(
        kat_state(0).session_key().as_bytes().to_vec(),
        v("session_key")
    );
}

#[test]
fn bound_session_key_strips_trailing_zeros_of_bind_auth() {
    let key = SessionKey::derive(
        Some(&kat_salt()),
        &v("bind_auth"),
        &a32("nonce_tpm0"),
        &a32("nonce_caller0"),
    )
    .unwrap();
    assert_eq!(key.as_bytes().to_vec(), v("session_key_bound"));
}

#[test]
fn unsalted_unbound_session_key_is_refused() {
    let err = SessionKey::derive(None, b"\0\0", &[1; 32], &[2; 32]).unwrap_err();
    assert_eq!(err, SessionError::Size);
}

#[test]
fn session_state_rejects_short_nonce_tpm() {
    let err =
        SessionState::new(0x0200_0000, Some(&kat_salt()), b"", &[0; 32], &[0; 16], 0).unwrap_err();
    assert_eq!(err, SessionError::Size);
}

// ---- names --------------------------------------------------------------

#[test]
fn object_names_match_vectors() {
    assert_eq!(
        session::object_name(&v("srk_public")).to_vec(),
        v("srk_name")
    );
    assert_eq!(
        session::object_name(&v("sealed_public")).to_vec(),
        v("sealed_name")
    );
    assert_eq!(session::handle_name(0x4000_0001), [0x40, 0x00, 0x00, 0x01]);
}

// ---- command 1: Create with decrypt ------------------------------------

#[test]
fn cfb_key_iv_for_command_and_response_match_vectors() {
    let sk = kat_session_key();
    let k = session::cfb_key_iv(&sk, b"", &a32("nonce_caller1"), &a32("nonce_tpm0")).unwrap();
    assert_eq!(k.to_vec(), v("cfb_cmd_key_iv"));
    let k = session::cfb_key_iv(
        &sk,
        &v("sealed_auth"),
        &a32("nonce_tpm2"),
        &a32("nonce_caller2"),
    )
    .unwrap();
    assert_eq!(k.to_vec(), v("cfb_rsp_key_iv"));
}

#[test]
fn command_param_encryption_matches_vector() {
    let sk = kat_session_key();
    let mut p = v("create_plain");
    session::encrypt_command_param(&sk, b"", &a32("nonce_caller1"), &a32("nonce_tpm0"), &mut p)
        .unwrap();
    assert_eq!(p, v("create_cipher"));
}

#[test]
fn command_hash_and_hmac_match_vectors() {
    let srk_name = v("srk_name");
    let cp = session::cp_hash(u32v("cc_create"), &[&srk_name], &v("create_params"));
    assert_eq!(cp.to_vec(), v("cp_hash1"));
    let mac = session::command_hmac(
        &kat_session_key(),
        b"",
        &cp,
        &a32("nonce_caller1"),
        &a32("nonce_tpm0"),
        u8v("attrs1"),
    )
    .unwrap();
    assert_eq!(mac.to_vec(), v("cmd_hmac1"));
}

#[test]
fn response_hash_and_hmac_match_vectors() {
    let rp = session::rp_hash(u32v("cc_create"), &v("create_rsp_params"));
    assert_eq!(rp.to_vec(), v("rp_hash1"));
    let mac = session::response_hmac(
        &kat_session_key(),
        b"",
        &rp,
        &a32("nonce_tpm1"),
        &a32("nonce_caller1"),
        u8v("attrs1"),
    )
    .unwrap();
    assert_eq!(mac.to_vec(), v("rsp_hmac1"));
}

// ---- the whole flow through SessionState -------------------------------

#[test]
fn session_state_runs_create_then_unseal_like_python() {
    let mut rng = ScriptRng([v("nonce_caller1"), v("nonce_caller2")].concat());
    let mut s = kat_state(ATTR_CONTINUE_SESSION | ATTR_DECRYPT);
    assert_eq!(s.attributes(), u8v("attrs1"));

    // TPM2_Create: parameter encryption, then cpHash over the bytes as sent
    s.begin_command(&mut rng).unwrap();
    assert_eq!(s.nonce_caller().to_vec(), v("nonce_caller1"));
    let mut params = v("create_params");
    let plain = v("create_plain");
    params[2..2 + plain.len()].copy_from_slice(&plain);
    s.encrypt_command_param(b"", &mut params[2..2 + plain.len()])
        .unwrap();
    assert_eq!(params, v("create_params"));
    let srk_name = v("srk_name");
    let cp = session::cp_hash(u32v("cc_create"), &[&srk_name], &params);
    assert_eq!(s.command_hmac(b"", &cp).unwrap().to_vec(), v("cmd_hmac1"));

    let rp = session::rp_hash(u32v("cc_create"), &v("create_rsp_params"));
    s.check_response(b"", &rp, &v("nonce_tpm1"), u8v("attrs1"), &v("rsp_hmac1"))
        .unwrap();
    assert_eq!(s.nonce_tpm().to_vec(), v("nonce_tpm1"));

    // TPM2_Unseal: no parameters, encrypted response, authValue with a trailing zero
    s.set_attributes(ATTR_CONTINUE_SESSION | ATTR_ENCRYPT);
    assert_eq!(s.attributes(), u8v("attrs2"));
    s.begin_command(&mut rng).unwrap();
    let auth = v("sealed_auth");
    let sealed_name = v("sealed_name");
    let cp = session::cp_hash(u32v("cc_unseal"), &[&sealed_name], &[]);
    assert_eq!(cp.to_vec(), v("cp_hash2"));
    assert_eq!(s.command_hmac(&auth, &cp).unwrap().to_vec(), v("cmd_hmac2"));

    let mut rsp = v("unseal_rsp_params");
    let rp = session::rp_hash(u32v("cc_unseal"), &rsp);
    assert_eq!(rp.to_vec(), v("rp_hash2"));
    s.check_response(&auth, &rp, &v("nonce_tpm2"), u8v("attrs2"), &v("rsp_hmac2"))
        .unwrap();
    s.decrypt_response_param(&auth, &mut rsp[2..]).unwrap();
    assert_eq!(rsp[2..].to_vec(), v("unseal_plain"));

    // the authValue without its trailing zero gives the same keys
    let mut again = v("unseal_cipher");
    s.decrypt_response_param(b"hunter2", &mut again).unwrap();
    assert_eq!(again, v("unseal_plain"));
}

#[test]
fn decrypt_response_param_free_function_matches_vector() {
    let mut p = v("unseal_cipher");
    session::decrypt_response_param(
        &kat_session_key(),
        &v("sealed_auth"),
        &a32("nonce_caller2"),
        &a32("nonce_tpm2"),
        &mut p,
    )
    .unwrap();
    assert_eq!(p, v("unseal_plain"));
}

// ---- response tampering -------------------------------------------------

/// State just before the Create response arrives.
fn state_awaiting_create_response() -> (SessionState, [u8; 32]) {
    let mut s = kat_state(ATTR_CONTINUE_SESSION | ATTR_DECRYPT);
    s.begin_command(&mut ScriptRng(v("nonce_caller1"))).unwrap();
    let rp = session::rp_hash(u32v("cc_create"), &v("create_rsp_params"));
    (s, rp)
}

#[test]
fn check_response_rejects_each_flipped_hmac_bit() {
    let good = v("rsp_hmac1");
    for bit in 0..good.len() * 8 {
        let (mut s, rp) = state_awaiting_create_response();
        let mut bad = good.clone();
        bad[bit / 8] ^= 1 << (bit % 8);
        let err = s
            .check_response(b"", &rp, &v("nonce_tpm1"), u8v("attrs1"), &bad)
            .unwrap_err();
        assert_eq!(err, SessionError::ResponseHmac, "bit {bit}");
        // nonceTPM does not roll on failure
        assert_eq!(s.nonce_tpm().to_vec(), v("nonce_tpm0"));
    }
}

#[test]
fn check_response_rejects_flipped_attribute_byte() {
    for bit in 0..8 {
        let (mut s, rp) = state_awaiting_create_response();
        let attrs = u8v("attrs1") ^ (1 << bit);
        let err = s
            .check_response(b"", &rp, &v("nonce_tpm1"), attrs, &v("rsp_hmac1"))
            .unwrap_err();
        assert_eq!(err, SessionError::ResponseHmac, "bit {bit}");
    }
}

#[test]
fn check_response_rejects_tampered_parameters_nonce_or_auth() {
    let (mut s, _) = state_awaiting_create_response();
    let mut params = v("create_rsp_params");
    params[3] ^= 0x80;
    let rp = session::rp_hash(u32v("cc_create"), &params);
    let err = s.check_response(b"", &rp, &v("nonce_tpm1"), u8v("attrs1"), &v("rsp_hmac1"));
    assert_eq!(err.unwrap_err(), SessionError::ResponseHmac);

    let (mut s, rp) = state_awaiting_create_response();
    let mut nonce = v("nonce_tpm1");
    nonce[0] ^= 1;
    let err = s.check_response(b"", &rp, &nonce, u8v("attrs1"), &v("rsp_hmac1"));
    assert_eq!(err.unwrap_err(), SessionError::ResponseHmac);

    let (mut s, rp) = state_awaiting_create_response();
    let err = s.check_response(b"x", &rp, &v("nonce_tpm1"), u8v("attrs1"), &v("rsp_hmac1"));
    assert_eq!(err.unwrap_err(), SessionError::ResponseHmac);
}

#[test]
fn check_response_rejects_wrong_lengths() {
    let (mut s, rp) = state_awaiting_create_response();
    let hmac = v("rsp_hmac1");
    let err = s.check_response(b"", &rp, &v("nonce_tpm1"), u8v("attrs1"), &hmac[..31]);
    assert_eq!(err.unwrap_err(), SessionError::ResponseHmac);
    let err = s.check_response(b"", &rp, &v("nonce_tpm1")[..16], u8v("attrs1"), &hmac);
    assert_eq!(err.unwrap_err(), SessionError::ResponseHmac);
    let err = s.check_response(b"", &rp, &v("nonce_tpm1"), u8v("attrs1"), &[]);
    assert_eq!(err.unwrap_err(), SessionError::ResponseHmac);
    // and the untampered response still verifies afterwards
    s.check_response(b"", &rp, &v("nonce_tpm1"), u8v("attrs1"), &hmac)
        .unwrap();
}

#[test]
fn replayed_response_is_rejected_after_the_nonce_rolled() {
    let (mut s, rp) = state_awaiting_create_response();
    s.check_response(b"", &rp, &v("nonce_tpm1"), u8v("attrs1"), &v("rsp_hmac1"))
        .unwrap();
    s.begin_command(&mut trusted_core::test_util::ScriptRng::counting(0))
        .unwrap();
    let err = s.check_response(b"", &rp, &v("nonce_tpm1"), u8v("attrs1"), &v("rsp_hmac1"));
    assert_eq!(err.unwrap_err(), SessionError::ResponseHmac);
}

// ---- RNG failure and size limits ---------------------------------------

#[test]
fn begin_command_reports_rng_failure_and_keeps_nonce() {
    let mut s = kat_state(ATTR_CONTINUE_SESSION);
    let err = s.begin_command(&mut ScriptRng(vec![0; 31])).unwrap_err();
    assert_eq!(err, SessionError::Rng);
    assert_eq!(s.nonce_caller().to_vec(), v("nonce_caller0"));
    let err = session::random_nonce(&mut ScriptRng(Vec::new())).unwrap_err();
    assert_eq!(err, SessionError::Rng);
}

#[test]
fn overlong_auth_value_is_refused() {
    let sk = kat_session_key();
    let auth = [0x55u8; 65];
    let n: Nonce = [0; 32];
    assert_eq!(
        session::command_hmac(&sk, &auth, &[0; 32], &n, &n, 0).unwrap_err(),
        SessionError::Size
    );
    let mut p = [0u8; 4];
    assert_eq!(
        session::encrypt_command_param(&sk, &auth, &n, &n, &mut p).unwrap_err(),
        SessionError::Size
    );
    assert_eq!(p, [0; 4]);
    // 64 bytes plus trailing zeros is within the limit
    let mut auth = [0x55u8; 70];
    auth[64..].fill(0);
    session::command_hmac(&sk, &auth, &[0; 32], &n, &n, 0).unwrap();
}

#[test]
fn secrets_do_not_print_their_bytes() {
    let salt = kat_salt();
    let s = kat_state(ATTR_CONTINUE_SESSION);
    let text = format!("{salt:?} {:?} {s:?}", s.session_key());
    assert_eq!(text.matches("..").count(), 3, "{text}");
    for secret in [v("salt"), v("session_key")] {
        let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
        assert!(!text.contains(&hex[..8]));
    }
}

#[test]
fn errors_display() {
    for e in [
        SessionError::NotOnCurve,
        SessionError::ResponseHmac,
        SessionError::Rng,
        SessionError::Scalar,
        SessionError::Size,
    ] {
        assert!(!e.to_string().is_empty());
    }
}
