//! Every field of a record is an ECS 9.4.0 field of the right type, except
//! the chain and decision fields under our own `modelseal` namespace, which
//! is not an ECS field set.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../common/ecs.rs"]
mod ecs_check;

use crate::common::{Log, event};
use ecs_check::{check_record, ecs};
use modelseal_audit::ECS_VERSION;
use modelseal_audit::{Category, Details, EventType, FileHash, TsaTimestamp, WriterOptions, X509};
use serde_json::Value;
use std::collections::BTreeSet;

#[test]
fn record_fields_are_ecs_fields_of_the_right_type() {
    let ecs = ecs();
    let l = Log::new();
    let mut w = l.writer(WriterOptions::default());
    let mut full = event(0); // failure, with reason, file path and sha256
    w.append(&full).unwrap();
    full.file_hash = Some(FileHash::parse(&"ab".repeat(64)).unwrap());
    full.source_ip = "2001:db8::7".parse().unwrap();
    w.append(&full).unwrap();
    w.append(&event(1)).unwrap(); // success, no reason
    // Every structured field: categorization, user name, certificate,
    // policy, signer and bundle.
    let mut rich = event(1);
    rich.category = vec![Category::File, Category::Process];
    rich.types = vec![EventType::Access, EventType::Allowed];
    rich.user_name = Some("alice".into());
    rich.details = Details {
        x509: Some(X509 {
            alternative_names: vec!["email:release@example.com".into()],
            issuer: "CN=CA".into(),
            not_after: "2030-01-01T00:00:00Z".into(),
            serial_number: "01ab".into(),
            subject: "CN=release".into(),
        }),
        policy: Some("production".into()),
        signer_identity: Some("email:release@example.com".into()),
        key_sha256: Some("cd".repeat(32)),
        bundle_path: Some("/models/m.sig".into()),
        bundle_sha256: Some("ef".repeat(32)),
        timestamp: Some(TsaTimestamp {
            gen_time: "2026-12-01T19:00:00Z".into(),
            tsa_name: Some("CN=TSA".into()),
            tsa_url: Some("http://tsa.example/".into()),
        }),
    };
    w.append(&rich).unwrap();
    drop(w);

    let mut seen = BTreeSet::new();
    for line in std::fs::read_to_string(&l.log).unwrap().lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["ecs"]["version"], ECS_VERSION);
        seen.extend(check_record(&ecs, line));
        // The typed record reads back what was written.
        let rec = modelseal_audit::Record::parse(line.as_bytes()).unwrap();
        assert_eq!(rec.to_line().unwrap(), format!("{line}\n").into_bytes());
    }
    // The fields the issue asks for are all there.
    for f in [
        "@timestamp",
        "event.action",
        "event.outcome",
        "event.reason",
        "event.sequence",
        "user.id",
        "source.ip",
        "host.name",
        "file.path",
        "file.hash.sha256",
        "file.hash.sha512",
        "ecs.version",
        "event.kind",
        "event.category",
        "event.type",
        "user.name",
        "rule.name",
        "file.x509.serial_number",
        "file.x509.subject.distinguished_name",
        "file.x509.not_after",
    ] {
        assert!(seen.contains(f), "{f} never written");
    }
}

#[test]
fn our_namespace_is_not_an_ecs_field_set() {
    let ecs = ecs();
    assert!(!ecs.field_sets.contains("modelseal"));
    assert!(ecs.field_sets.contains("event") && ecs.field_sets.contains("user"));
    assert!(!ecs.fields.keys().any(|k| k.starts_with("modelseal")));
}
