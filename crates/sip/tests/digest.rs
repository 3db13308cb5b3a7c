//! Digest authentication carried in real messages: a registrar challenges, a phone answers,
//! the registrar verifies; and the header values in the fixtures parse.

use sip::digest::{Algorithm, Challenge, Credentials, DigestError, Secret};
use sip::message::{HeaderName, Method, Request};
use sip::Message;

fn fixture(name: &str) -> Message {
    let path = format!("{}/test_data/{name}", env!("CARGO_MANIFEST_DIR"));
    Message::parse(&std::fs::read(&path).expect("fixture")).expect("parses")
}

#[test]
fn fixture_headers_parse() {
    let Message::Response(challenge) = fixture("unauthorized401.sip") else { panic!() };
    let offers: Vec<Challenge> = challenge
        .headers
        .get_all(&HeaderName::WwwAuthenticate)
        .map(|v| Challenge::parse(v).expect("challenge"))
        .collect();
    let algorithms: Vec<_> = offers.iter().map(|c| c.algorithm).collect();
    assert_eq!(algorithms, [Algorithm::Sha256, Algorithm::Md5]);
    assert_eq!(offers[0].qop, ["auth"]);

    let Message::Request(register) = fixture("register.sip") else { panic!() };
    let value = register.headers.get(&HeaderName::Authorization).expect("header");
    let credentials = Credentials::parse(value).expect("credentials");
    assert_eq!(credentials.username, "agent7");
    assert_eq!(credentials.nc, Some(1));
    assert!(!credentials.verify("REGISTER", Secret::Password("wrong")));
}

#[test]
fn register_challenge_answer_verify() {
    for algorithm in [Algorithm::Md5, Algorithm::Sha256] {
        // Registrar: a nonce it made from its own seeded source.
        let mut challenge = Challenge::new("switchboard.example", "nonce-1", algorithm);
        challenge.opaque = Some("op".into());
        let header = challenge.to_string();

        // Phone: answers from the header text.
        let offered = Challenge::parse(&header).expect("parses");
        let mut register = Request::new(Method::Register, "sip:switchboard.example");
        let credentials = Credentials::answer(
            &offered,
            "REGISTER",
            &register.uri,
            "agent7",
            "s3cret",
            "cnonce-1",
            1,
        )
        .expect("auth offered");
        register.headers.push(HeaderName::Authorization, credentials.to_string());

        // Registrar: checks against the stored HA1, never the password.
        let ha1 = algorithm.ha1("agent7", "switchboard.example", "s3cret");
        let got = register.headers.get(&HeaderName::Authorization).expect("header");
        let got = Credentials::parse(got).expect("parses");
        assert_eq!((got.nonce.as_str(), got.opaque.as_deref()), ("nonce-1", Some("op")));
        assert!(got.verify("REGISTER", Secret::Ha1(&ha1)), "{algorithm:?}");
        assert!(!got.verify("INVITE", Secret::Ha1(&ha1)), "the method is signed");
    }
}

#[test]
fn qop_auth_int_only_is_refused() {
    let value = r#"Digest username="u", realm="r", nonce="n", uri="sip:x", response="00",
        qop=auth-int, cnonce="c", nc=00000001"#;
    assert_eq!(Credentials::parse(value), Err(DigestError::UnsupportedQop("auth-int".into())));
}
