//! Known-answer tests for `hal_tpm_spi::session` against vectors computed
//! independently in Python (tests/vectors/session_vectors.py, with hashlib,
//! hmac and `cryptography`), plus the failure paths: an off-curve salt key,
//! a tampered response HMAC or attribute byte, a failing RNG.
#![cfg(feature = "sessions")]

use std::sync::OnceLock;

use hal_tpm_spi::session::{
    self, ATTR_CONTINUE_SESSION, ATTR_DECRYPT, ATTR_ENCRYPT, Direction, ENCRYPTED_SALT_SIZE,
    EncryptedSalt, Exchange, Nonce, Salt, SessionError, SessionKey, SessionState,
};
use trusted_core::test_util::{FiniteRng, ScriptRng, Section, hex, section, vectors};

/// Section `[name]` of tests/vectors/session_vectors.txt: one per step of
/// the modelled flow (kdfa-1, kdfa-2, kdfe, ecdh, names, start, create,
/// unseal).
fn kat(name: &str) -> &'static Section {
    static ALL: OnceLock<Vec<Section>> = OnceLock::new();
    let all = ALL.get_or_init(|| vectors(include_str!("vectors/session_vectors.txt")));
    section(all, name)
}

/// The command code of a step (`[create]` or `[unseal]`).
fn cc(step: &str) -> u32 {
    u32::from_be_bytes(kat(step).array("cc"))
}

/// The session attributes byte of a step.
fn attrs(step: &str) -> u8 {
    let [a] = kat(step).array("attrs");
    a
}

/// [`session::ecdh_salt`] to the KAT's TPM salt key, drawing from `rng`.
fn kat_ecdh_salt(rng: &mut FiniteRng) -> Result<(Salt, EncryptedSalt), SessionError> {
    let ecdh = kat("ecdh");
    session::ecdh_salt(&ecdh.array("tpm_point_x"), &ecdh.array("tpm_point_y"), rng)
}

/// [`session::ecdh_salt_from_scalar`] to the KAT's TPM salt key.
fn kat_ecdh_salt_from(scalar: &[u8; 32]) -> Result<(Salt, EncryptedSalt), SessionError> {
    let ecdh = kat("ecdh");
    session::ecdh_salt_from_scalar(
        &ecdh.array("tpm_point_x"),
        &ecdh.array("tpm_point_y"),
        scalar,
    )
}

#[allow(clippy::unwrap_used, reason = "a refused vector fails the test")]
fn kat_salt() -> Salt {
    let (salt, _) = kat_ecdh_salt_from(&kat("ecdh").array("eph_scalar")).unwrap();
    salt
}

fn kat_session_key() -> SessionKey {
    SessionKey::from_bytes(kat("start").array("session_key"))
}

/// The key, authValue and nonces of one side of a KAT step, owned, for an
/// [`Exchange`] to borrow.
struct KatExchange {
    session_key: SessionKey,
    auth_value: Vec<u8>,
    nonce_caller: Nonce,
    nonce_tpm: Nonce,
}

impl KatExchange {
    fn get(&self) -> Exchange<'_> {
        Exchange {
            session_key: &self.session_key,
            auth_value: &self.auth_value,
            nonce_caller: &self.nonce_caller,
            nonce_tpm: &self.nonce_tpm,
        }
    }
}

/// `step`'s exchange with `auth_value`: its nonceCaller and the nonceTPM of
/// step `nonce_tpm_of` (the step before for the command, `step` itself for
/// the response).
fn kat_exchange(step: &str, auth_value: &[u8], nonce_tpm_of: &str) -> KatExchange {
    KatExchange {
        session_key: kat_session_key(),
        auth_value: auth_value.to_vec(),
        nonce_caller: kat(step).array("nonce_caller"),
        nonce_tpm: kat(nonce_tpm_of).array("nonce_tpm"),
    }
}

/// The session right after StartAuthSession, as the KAT flow has it.
#[allow(clippy::unwrap_used, reason = "a refused vector fails the test")]
fn kat_state(attributes: u8) -> SessionState {
    let start = kat("start");
    SessionState::new(
        0x0200_0000,
        Some(&kat_salt()),
        b"",
        &start.array("nonce_caller"),
        &start.bytes("nonce_tpm"),
        attributes,
    )
    .unwrap()
}

// ---- KDFs ---------------------------------------------------------------

/// KDFa over the vector `name` into `N` bytes, against its `out`.
#[allow(clippy::unwrap_used, reason = "a refused vector fails the test")]
fn check_kdfa<const N: usize>(name: &str) {
    let k = kat(name);
    let mut out = [0u8; N];
    session::kdfa(
        &k.bytes("key"),
        &k.bytes("label"),
        &k.bytes("u"),
        &k.bytes("v"),
        &mut out,
    )
    .unwrap();
    assert_eq!(out.to_vec(), k.bytes("out"));
}

#[test]
fn kdfa_matches_one_block_vector() {
    check_kdfa::<32>("kdfa-1");
}

#[test]
fn kdfa_truncates_a_non_multiple_of_32_length() {
    check_kdfa::<45>("kdfa-2");
}

#[test]
fn kdfe_matches_vector() {
    let k = kat("kdfe");
    let out = session::kdfe(&k.array("z"), b"SECRET", &k.array("u"), &k.array("v"));
    assert_eq!(out.to_vec(), k.bytes("out"));
}

// ---- ECDH salt ----------------------------------------------------------

#[test]
fn ecdh_salt_from_fixed_scalar_matches_python() {
    let ecdh = kat("ecdh");
    let (salt, enc) = kat_ecdh_salt_from(&ecdh.array("eph_scalar")).unwrap();
    assert_eq!(salt.as_bytes().to_vec(), ecdh.bytes("salt"));
    assert_eq!(enc.as_tpm2b().to_vec(), ecdh.bytes("encrypted_salt"));
    assert_eq!(enc.as_tpm2b().len(), ENCRYPTED_SALT_SIZE);
    assert_eq!(enc.point_x().to_vec(), ecdh.bytes("eph_point_x"));
    assert_eq!(enc.point_y().to_vec(), ecdh.bytes("eph_point_y"));
}

#[test]
fn ecdh_salt_with_rng_uses_the_drawn_scalar() {
    let ecdh = kat("ecdh");
    let mut rng = FiniteRng::new(&ecdh.bytes("eph_scalar"));
    let (salt, enc) = kat_ecdh_salt(&mut rng).unwrap();
    assert_eq!(salt.as_bytes().to_vec(), ecdh.bytes("salt"));
    assert_eq!(enc.as_tpm2b().to_vec(), ecdh.bytes("encrypted_salt"));
}

#[test]
fn ecdh_salt_redraws_an_invalid_scalar() {
    let ecdh = kat("ecdh");
    // all-ones is above the group order n, so it is rejected and redrawn
    let mut script = vec![0xFF; 32];
    script.extend(ecdh.bytes("eph_scalar"));
    let (salt, _) = kat_ecdh_salt(&mut FiniteRng::new(&script)).unwrap();
    assert_eq!(salt.as_bytes().to_vec(), ecdh.bytes("salt"));
}

#[test]
fn ecdh_salt_rejects_off_curve_tpm_point() {
    let ecdh = kat("ecdh");
    let mut y: [u8; 32] = ecdh.array("tpm_point_y");
    y[31] ^= 0x01;
    let err = session::ecdh_salt(&ecdh.array("tpm_point_x"), &y, &mut ScriptRng::counting(0))
        .unwrap_err();
    assert_eq!(err, SessionError::NotOnCurve);
    let err =
        session::ecdh_salt_from_scalar(&ecdh.array("tpm_point_x"), &y, &ecdh.array("eph_scalar"))
            .unwrap_err();
    assert_eq!(err, SessionError::NotOnCurve);
    // the all-zero "point" (what a TPM with an empty unique field would give)
    let err = session::ecdh_salt(&[0; 32], &[0; 32], &mut ScriptRng::counting(0)).unwrap_err();
    assert_eq!(err, SessionError::NotOnCurve);
}

#[test]
fn ecdh_salt_reports_rng_failure() {
    let mut rng = FiniteRng::new(&[0x11; 7]); // fewer bytes than one scalar
    let err = kat_ecdh_salt(&mut rng).unwrap_err();
    assert_eq!(err, SessionError::Rng);
}

#[test]
fn ecdh_salt_gives_up_on_an_rng_of_invalid_scalars() {
    let mut rng = FiniteRng::new(&[0x00; 32 * 8]); // zero scalar, forever
    let err = kat_ecdh_salt(&mut rng).unwrap_err();
    assert_eq!(err, SessionError::Rng);
}

#[test]
fn ecdh_salt_from_scalar_rejects_zero_scalar() {
    let err = kat_ecdh_salt_from(&[0; 32]).unwrap_err();
    assert_eq!(err, SessionError::Scalar);
}

// ---- sessionKey ---------------------------------------------------------

#[test]
fn session_key_matches_vector() {
    let start = kat("start");
    let key = SessionKey::derive(
        Some(&kat_salt()),
        b"",
        &start.array("nonce_tpm"),
        &start.array("nonce_caller"),
    )
    .unwrap();
    assert_eq!(key.as_bytes().to_vec(), start.bytes("session_key"));
    assert_eq!(
        kat_state(0).session_key().as_bytes().to_vec(),
        start.bytes("session_key")
    );
}

#[test]
fn bound_session_key_strips_trailing_zeros_of_bind_auth() {
    let start = kat("start");
    let key = SessionKey::derive(
        Some(&kat_salt()),
        &start.bytes("bind_auth"),
        &start.array("nonce_tpm"),
        &start.array("nonce_caller"),
    )
    .unwrap();
    assert_eq!(key.as_bytes().to_vec(), start.bytes("session_key_bound"));
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
    let names = kat("names");
    assert_eq!(
        session::object_name(&names.bytes("srk_public")).to_vec(),
        names.bytes("srk_name")
    );
    assert_eq!(
        session::object_name(&names.bytes("sealed_public")).to_vec(),
        names.bytes("sealed_name")
    );
    assert_eq!(session::handle_name(0x4000_0001), [0x40, 0x00, 0x00, 0x01]);
}

// ---- command 1: Create with decrypt ------------------------------------

#[test]
fn cfb_key_iv_for_command_and_response_match_vectors() {
    let (create, unseal) = (kat("create"), kat("unseal"));
    let cmd = kat_exchange("create", b"", "start");
    let k = session::cfb_key_iv(&cmd.get(), Direction::Command).unwrap();
    assert_eq!(k.to_vec(), create.bytes("cfb_key_iv"));
    let rsp = kat_exchange("unseal", &unseal.bytes("auth"), "unseal");
    let k = session::cfb_key_iv(&rsp.get(), Direction::Response).unwrap();
    assert_eq!(k.to_vec(), unseal.bytes("cfb_key_iv"));
}

#[test]
fn command_param_encryption_matches_vector() {
    let create = kat("create");
    let mut p = create.bytes("plain");
    let cmd = kat_exchange("create", b"", "start");
    session::encrypt_command_param(&cmd.get(), &mut p).unwrap();
    assert_eq!(p, create.bytes("cipher"));
}

#[test]
fn command_and_response_hashes_and_hmacs_match_vectors() {
    let create = kat("create");
    let srk_name = kat("names").bytes("srk_name");
    let cp = session::cp_hash(cc("create"), &[&srk_name], &create.bytes("params"));
    assert_eq!(cp.to_vec(), create.bytes("cp_hash"));
    let cmd = kat_exchange("create", b"", "start");
    let mac = session::command_hmac(&cmd.get(), &cp, attrs("create")).unwrap();
    assert_eq!(mac.to_vec(), create.bytes("cmd_hmac"));

    // the response: its own nonceTPM, the nonces in the other order
    let rp = session::rp_hash(cc("create"), &create.bytes("rsp_params"));
    assert_eq!(rp.to_vec(), create.bytes("rp_hash"));
    let rsp = kat_exchange("create", b"", "create");
    let mac = session::response_hmac(&rsp.get(), &rp, attrs("create")).unwrap();
    assert_eq!(mac.to_vec(), create.bytes("rsp_hmac"));
}

// ---- the whole flow through SessionState -------------------------------

#[test]
fn session_state_runs_create_then_unseal_like_python() {
    let (create, unseal) = (kat("create"), kat("unseal"));
    let mut rng =
        FiniteRng::new(&[create.bytes("nonce_caller"), unseal.bytes("nonce_caller")].concat());
    let mut s = kat_state(ATTR_CONTINUE_SESSION | ATTR_DECRYPT);
    assert_eq!(s.attributes(), attrs("create"));

    // TPM2_Create: parameter encryption, then cpHash over the bytes as sent
    s.begin_command(&mut rng).unwrap();
    assert_eq!(s.nonce_caller().to_vec(), create.bytes("nonce_caller"));
    let mut params = create.bytes("params");
    let plain = create.bytes("plain");
    params[2..2 + plain.len()].copy_from_slice(&plain);
    s.encrypt_command_param(b"", &mut params[2..2 + plain.len()])
        .unwrap();
    assert_eq!(params, create.bytes("params"));
    let srk_name = kat("names").bytes("srk_name");
    let cp = session::cp_hash(cc("create"), &[&srk_name], &params);
    assert_eq!(
        s.command_hmac(b"", &cp).unwrap().to_vec(),
        create.bytes("cmd_hmac")
    );

    let rp = session::rp_hash(cc("create"), &create.bytes("rsp_params"));
    s.check_response(
        b"",
        &rp,
        &create.bytes("nonce_tpm"),
        attrs("create"),
        &create.bytes("rsp_hmac"),
    )
    .unwrap();
    assert_eq!(s.nonce_tpm().to_vec(), create.bytes("nonce_tpm"));

    // TPM2_Unseal: no parameters, encrypted response, authValue with a trailing zero
    s.set_attributes(ATTR_CONTINUE_SESSION | ATTR_ENCRYPT);
    assert_eq!(s.attributes(), attrs("unseal"));
    s.begin_command(&mut rng).unwrap();
    let auth = unseal.bytes("auth");
    let sealed_name = kat("names").bytes("sealed_name");
    let cp = session::cp_hash(cc("unseal"), &[&sealed_name], &[]);
    assert_eq!(cp.to_vec(), unseal.bytes("cp_hash"));
    assert_eq!(
        s.command_hmac(&auth, &cp).unwrap().to_vec(),
        unseal.bytes("cmd_hmac")
    );

    let mut rsp = unseal.bytes("rsp_params");
    let rp = session::rp_hash(cc("unseal"), &rsp);
    assert_eq!(rp.to_vec(), unseal.bytes("rp_hash"));
    s.check_response(
        &auth,
        &rp,
        &unseal.bytes("nonce_tpm"),
        attrs("unseal"),
        &unseal.bytes("rsp_hmac"),
    )
    .unwrap();
    s.decrypt_response_param(&auth, &mut rsp[2..]).unwrap();
    assert_eq!(rsp[2..].to_vec(), unseal.bytes("plain"));

    // the authValue without its trailing zero gives the same keys
    let mut again = unseal.bytes("cipher");
    s.decrypt_response_param(b"hunter2", &mut again).unwrap();
    assert_eq!(again, unseal.bytes("plain"));
}

#[test]
fn decrypt_response_param_free_function_matches_vector() {
    let unseal = kat("unseal");
    let mut p = unseal.bytes("cipher");
    let rsp = kat_exchange("unseal", &unseal.bytes("auth"), "unseal");
    session::decrypt_response_param(&rsp.get(), &mut p).unwrap();
    assert_eq!(p, unseal.bytes("plain"));
}

// ---- response tampering -------------------------------------------------

/// State just before the Create response arrives.
#[allow(clippy::unwrap_used, reason = "a refused vector fails the test")]
fn state_awaiting_create_response() -> (SessionState, [u8; 32]) {
    let create = kat("create");
    let mut s = kat_state(ATTR_CONTINUE_SESSION | ATTR_DECRYPT);
    s.begin_command(&mut FiniteRng::new(&create.bytes("nonce_caller")))
        .unwrap();
    let rp = session::rp_hash(cc("create"), &create.bytes("rsp_params"));
    (s, rp)
}

#[test]
fn check_response_rejects_each_flipped_hmac_bit() {
    let create = kat("create");
    let good = create.bytes("rsp_hmac");
    for bit in 0..good.len() * 8 {
        let (mut s, rp) = state_awaiting_create_response();
        let mut bad = good.clone();
        bad[bit / 8] ^= 1 << (bit % 8);
        let err = s
            .check_response(b"", &rp, &create.bytes("nonce_tpm"), attrs("create"), &bad)
            .unwrap_err();
        assert_eq!(err, SessionError::ResponseHmac, "bit {bit}");
        // nonceTPM does not roll on failure
        assert_eq!(s.nonce_tpm().to_vec(), kat("start").bytes("nonce_tpm"));
    }
}

#[test]
fn check_response_rejects_flipped_attribute_byte() {
    let create = kat("create");
    for bit in 0..8 {
        let (mut s, rp) = state_awaiting_create_response();
        let flipped = attrs("create") ^ (1 << bit);
        let err = s
            .check_response(
                b"",
                &rp,
                &create.bytes("nonce_tpm"),
                flipped,
                &create.bytes("rsp_hmac"),
            )
            .unwrap_err();
        assert_eq!(err, SessionError::ResponseHmac, "bit {bit}");
    }
}

#[test]
fn check_response_rejects_tampered_parameters_nonce_or_auth() {
    let create = kat("create");
    let (nonce_tpm, hmac) = (create.bytes("nonce_tpm"), create.bytes("rsp_hmac"));
    let (mut s, _) = state_awaiting_create_response();
    let mut params = create.bytes("rsp_params");
    params[3] ^= 0x80;
    let rp = session::rp_hash(cc("create"), &params);
    let err = s.check_response(b"", &rp, &nonce_tpm, attrs("create"), &hmac);
    assert_eq!(err.unwrap_err(), SessionError::ResponseHmac);

    let (mut s, rp) = state_awaiting_create_response();
    let mut nonce = nonce_tpm.clone();
    nonce[0] ^= 1;
    let err = s.check_response(b"", &rp, &nonce, attrs("create"), &hmac);
    assert_eq!(err.unwrap_err(), SessionError::ResponseHmac);

    let (mut s, rp) = state_awaiting_create_response();
    let err = s.check_response(b"x", &rp, &nonce_tpm, attrs("create"), &hmac);
    assert_eq!(err.unwrap_err(), SessionError::ResponseHmac);
}

#[test]
fn check_response_rejects_wrong_lengths() {
    let create = kat("create");
    let (nonce_tpm, hmac) = (create.bytes("nonce_tpm"), create.bytes("rsp_hmac"));
    let (mut s, rp) = state_awaiting_create_response();
    let err = s.check_response(b"", &rp, &nonce_tpm, attrs("create"), &hmac[..31]);
    assert_eq!(err.unwrap_err(), SessionError::ResponseHmac);
    let err = s.check_response(b"", &rp, &nonce_tpm[..16], attrs("create"), &hmac);
    assert_eq!(err.unwrap_err(), SessionError::ResponseHmac);
    let err = s.check_response(b"", &rp, &nonce_tpm, attrs("create"), &[]);
    assert_eq!(err.unwrap_err(), SessionError::ResponseHmac);
    // and the untampered response still verifies afterwards
    s.check_response(b"", &rp, &nonce_tpm, attrs("create"), &hmac)
        .unwrap();
}

#[test]
fn replayed_response_is_rejected_after_the_nonce_rolled() {
    let create = kat("create");
    let (nonce_tpm, hmac) = (create.bytes("nonce_tpm"), create.bytes("rsp_hmac"));
    let (mut s, rp) = state_awaiting_create_response();
    s.check_response(b"", &rp, &nonce_tpm, attrs("create"), &hmac)
        .unwrap();
    s.begin_command(&mut ScriptRng::counting(0)).unwrap();
    let err = s.check_response(b"", &rp, &nonce_tpm, attrs("create"), &hmac);
    assert_eq!(err.unwrap_err(), SessionError::ResponseHmac);
}

// ---- RNG failure and size limits ---------------------------------------

#[test]
fn begin_command_reports_rng_failure_and_keeps_nonce() {
    let mut s = kat_state(ATTR_CONTINUE_SESSION);
    let err = s.begin_command(&mut FiniteRng::new(&[0; 31])).unwrap_err();
    assert_eq!(err, SessionError::Rng);
    assert_eq!(
        s.nonce_caller().to_vec(),
        kat("start").bytes("nonce_caller")
    );
    let err = session::random_nonce(&mut FiniteRng::new(&[])).unwrap_err();
    assert_eq!(err, SessionError::Rng);
}

#[test]
fn overlong_auth_value_is_refused() {
    let sk = kat_session_key();
    let n: Nonce = [0; 32];
    let long = Exchange {
        session_key: &sk,
        auth_value: &[0x55; 65],
        nonce_caller: &n,
        nonce_tpm: &n,
    };
    assert_eq!(
        session::command_hmac(&long, &[0; 32], 0).unwrap_err(),
        SessionError::Size
    );
    let mut p = [0u8; 4];
    assert_eq!(
        session::encrypt_command_param(&long, &mut p).unwrap_err(),
        SessionError::Size
    );
    assert_eq!(p, [0; 4]);
    // 64 bytes plus trailing zeros is within the limit
    let mut auth = [0x55u8; 70];
    auth[64..].fill(0);
    let within = Exchange {
        auth_value: &auth,
        ..long
    };
    session::command_hmac(&within, &[0; 32], 0).unwrap();
}

#[test]
fn secrets_do_not_print_their_bytes() {
    let salt = kat_salt();
    let s = kat_state(ATTR_CONTINUE_SESSION);
    let text = format!("{salt:?} {:?} {s:?}", s.session_key());
    assert_eq!(text.matches("..").count(), 3, "{text}");
    for secret in [kat("ecdh").bytes("salt"), kat("start").bytes("session_key")] {
        assert!(!text.contains(&hex(&secret)[..8]));
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
