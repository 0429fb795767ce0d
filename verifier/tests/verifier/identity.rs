//! Who must have signed is always the caller's explicit choice
//! ([`IdentityRequirement`]): any signer the roots certify, one of a list,
//! and an empty list, which accepts nobody.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use modelseal_testkit::{read_fixture, sign_with, small_model, t2030};
use modelseal_verifier::{
    CheckName, Error, Identity, IdentityError, IdentityRequirement, Options, Outcome, Status,
    Trust, TrustAnchors,
};

fn verify(requirement: IdentityRequirement<'_>) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    small_model(&model);
    let bundle = sign_with(&model, "p256/leaf", "p256/fullchain.pem");
    let roots = TrustAnchors::from_pem(&read_fixture("pki/p256/root.pem")).unwrap();
    let trust = Trust::Roots(roots);
    let opts = Options::new(&trust, requirement, t2030());
    modelseal_verifier::verify(&model, &bundle, &opts)
}

fn identity_check(o: &Outcome) -> (Status, String) {
    let c = o
        .report
        .checks
        .iter()
        .find(|c| c.name == CheckName::Identity)
        .expect("an identity check");
    (c.status, c.detail.clone())
}

#[test]
fn any_accepts_every_certified_signer_and_says_so() {
    let o = verify(IdentityRequirement::Any);
    let v = o.result.as_ref().expect("verifies");
    assert_eq!(v.authenticated().signed_by().identity(), None);
    let (status, detail) = identity_check(&o);
    assert_eq!(status, Status::Skipped);
    assert!(detail.contains("any signer"), "{detail}");
}

#[test]
fn one_of_requires_a_match() {
    let ids = [
        Identity::parse("email:nobody@modelseal.test").unwrap(),
        Identity::parse("email:release-a@modelseal.test").unwrap(),
    ];
    let o = verify(IdentityRequirement::OneOf(&ids));
    let v = o.result.as_ref().expect("verifies");
    assert_eq!(v.authenticated().signed_by().identity(), Some(&ids[1]));
    assert_eq!(identity_check(&o).0, Status::Pass);

    let other = [Identity::parse("email:release-b@modelseal.test").unwrap()];
    let o = verify(IdentityRequirement::OneOf(&other));
    assert!(
        matches!(
            o.result,
            Err(Error::Identity(IdentityError::Mismatch { .. }))
        ),
        "{:?}",
        o.result
    );
    assert_eq!(identity_check(&o).0, Status::Fail);
}

#[test]
fn an_empty_list_accepts_nobody() {
    let o = verify(IdentityRequirement::OneOf(&[]));
    assert!(
        matches!(o.result, Err(Error::Identity(IdentityError::NoneAllowed))),
        "{:?}",
        o.result
    );
    assert_eq!(identity_check(&o).0, Status::Fail);
}
