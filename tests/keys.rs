//! CURVE keys and their certificate files: written and read in the format of pyzmq's
//! `zmq.auth` (and CZMQ's zcert), checked against pyzmq itself; typed errors that name
//! the file; a secret key never shown.

// A test may unwrap: a panic is a failed test (clippy.toml covers only #[test] fns).
#![allow(clippy::unwrap_used)]

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Command;

use experimance_common::security::{
    CurveKeyPair, CurvePublicKey, CurveSecretKey, KeyError, KeyFileProblem, Z85Error,
};

mod support;
use support::python;

fn temp_dir(what: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("exp-keys-{what}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A fixed pair (libzmq's test vector, RFC 26), so these tests need no key generation.
fn fixed_pair() -> CurveKeyPair {
    CurveKeyPair::from_keys(
        CurvePublicKey::from_z85("Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID").unwrap(),
        CurveSecretKey::from_z85("D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs").unwrap(),
    )
}

#[test]
fn generated_pairs_are_distinct_and_survive_their_files() {
    let dir = temp_dir("generate");
    let a = CurveKeyPair::generate().unwrap();
    let b = CurveKeyPair::generate().unwrap();
    assert_ne!(a.public(), b.public());
    let (secret, public) = a.save(&dir, "a").unwrap();
    assert_eq!(CurveKeyPair::load(&secret).unwrap(), a);
    assert_eq!(CurvePublicKey::load(&public).unwrap(), *a.public());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn saved_files_round_trip_with_their_modes() {
    let dir = temp_dir("roundtrip");
    let pair = fixed_pair();
    let (secret, public) = pair.save(&dir, "server").unwrap();
    assert_eq!(
        (secret.file_name().unwrap(), public.file_name().unwrap()),
        ("server.key".as_ref(), "server.pub".as_ref())
    );
    assert_eq!(std::fs::metadata(&secret).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(std::fs::metadata(&public).unwrap().permissions().mode() & 0o777, 0o644);
    assert_eq!(CurveKeyPair::load(&secret).unwrap(), pair);
    assert_eq!(
        CurvePublicKey::load(&secret).unwrap(),
        *pair.public(),
        "a secret file holds the public key too"
    );
    let public_text = std::fs::read_to_string(&public).unwrap();
    assert!(!public_text.contains("secret-key"), "{public_text}");
    match CurveKeyPair::load(&public) {
        Err(KeyError::KeyFile { path, problem: KeyFileProblem::NoSecretKey }) => assert_eq!(path, public),
        other => panic!("{other:?}"),
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn malformed_and_missing_files_are_typed_errors_naming_the_file() {
    let dir = temp_dir("malformed");
    let bad = dir.join("bad.key");
    std::fs::write(&bad, "metadata\ncurve\n    public-key = \"short\"\n").unwrap();
    match CurvePublicKey::load(&bad) {
        Err(e @ KeyError::KeyFile { .. }) => {
            assert!(e.to_string().contains(&*bad.to_string_lossy()), "{e}");
            let KeyError::KeyFile { problem, .. } = e else { unreachable!() };
            assert_eq!(
                problem,
                KeyFileProblem::BadKey { line: 3, source: Z85Error::WrongLength { found: 5 } }
            );
        }
        other => panic!("{other:?}"),
    }
    let empty = dir.join("empty.pub");
    std::fs::write(&empty, "# nothing here\n").unwrap();
    assert!(matches!(
        CurvePublicKey::load(&empty),
        Err(KeyError::KeyFile { problem: KeyFileProblem::NoPublicKey, .. })
    ));
    let missing = dir.join("missing.key");
    match CurveKeyPair::load(&missing) {
        Err(e @ KeyError::Io { .. }) => assert!(e.to_string().contains("missing.key"), "{e}"),
        other => panic!("{other:?}"),
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_secret_key_is_never_shown() {
    let pair = fixed_pair();
    let secret = pair.secret().expose_z85();
    assert!(!format!("{pair:?}").contains(&secret));
    assert!(!format!("{:?}", pair.secret()).contains(&secret));
    // A bad secret's error does not quote it either.
    let mut wrong = secret.clone();
    wrong.replace_range(5..6, "~");
    let e = CurveSecretKey::from_z85(&wrong).unwrap_err();
    assert!(!format!("{e} {e:?}").contains('~'), "{e:?}");
}

/// Runs `code` in the Python that has pyzmq; returns its stdout.
fn run_python(code: &str) -> String {
    let out = Command::new(python::python()).args(["-c", code]).output().unwrap();
    assert!(out.status.success(), "python failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn pyzmq_reads_our_certificates_and_we_read_its() {
    let dir = temp_dir("python");
    let pair = fixed_pair();
    let (secret, public) = pair.save(&dir, "rust").unwrap();
    let code = format!(
        "import zmq.auth\n\
         p, s = zmq.auth.load_certificate({secret:?})\n\
         q, n = zmq.auth.load_certificate({public:?})\n\
         print(p.decode(), s.decode(), q.decode(), n)\n\
         pub, sec = zmq.auth.create_certificates({dir:?}, 'py')\n\
         print(pub, sec)\n\
         print(*(k.decode() for k in zmq.auth.load_certificate(sec)))\n"
    );
    let out = run_python(&code);
    let lines: Vec<&str> = out.lines().collect();
    let ours = format!("{} {} {} None", pair.public(), pair.secret().expose_z85(), pair.public());
    assert_eq!(lines[0], ours, "pyzmq read our files");
    let (py_public, py_secret) = lines[1].split_once(' ').unwrap();
    let (expected_public, expected_secret) = lines[2].split_once(' ').unwrap();
    let theirs = CurveKeyPair::load(py_secret).unwrap();
    assert_eq!(theirs.public().to_z85(), expected_public);
    assert_eq!(theirs.secret().expose_z85(), expected_secret);
    assert_eq!(CurvePublicKey::load(py_public).unwrap(), *theirs.public());
    std::fs::remove_dir_all(&dir).unwrap();
}
