//! Every field of a record is an ECS 8.11.0 field of the right type, except
//! the chain fields under our own `modelseal` namespace, which is not an ECS
//! field set.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Log, event};
use modelseal_audit::record::ECS_VERSION;
use modelseal_audit::{FileHash, WriterOptions};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

struct Ecs {
    fields: BTreeMap<String, (String, Vec<String>)>,
    field_sets: BTreeSet<String>,
}

fn ecs() -> Ecs {
    let text = include_str!("data/ecs_8.11.0_fields.tsv");
    let mut fields = BTreeMap::new();
    let mut field_sets = BTreeSet::new();
    for line in text.lines() {
        if let Some(sets) = line.strip_prefix("# field sets: ") {
            field_sets = sets.split(',').map(str::to_string).collect();
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        let allowed = cols[3]
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        fields.insert(cols[0].to_string(), (cols[1].to_string(), allowed));
    }
    assert!(fields.len() > 200 && field_sets.len() > 40);
    Ecs { fields, field_sets }
}

fn flatten(prefix: &str, v: &Value, out: &mut BTreeMap<String, Value>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                let name = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&name, v, out);
            }
        }
        other => {
            out.insert(prefix.to_string(), other.clone());
        }
    }
}

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
    drop(w);

    let mut seen = BTreeSet::new();
    for line in std::fs::read_to_string(&l.log).unwrap().lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["ecs"]["version"], ECS_VERSION);
        let mut flat = BTreeMap::new();
        flatten("", &v, &mut flat);
        for (name, value) in flat {
            if name.starts_with("modelseal.") {
                continue;
            }
            let Some((ty, allowed)) = ecs.fields.get(&name) else {
                panic!("{name} is not an ECS {ECS_VERSION} field");
            };
            match ty.as_str() {
                "keyword" => assert!(value.is_string(), "{name}: {value}"),
                "long" => assert!(value.is_u64(), "{name}: {value}"),
                "ip" => {
                    value.as_str().unwrap().parse::<std::net::IpAddr>().unwrap();
                }
                "date" => {
                    time::OffsetDateTime::parse(
                        value.as_str().unwrap(),
                        &time::format_description::well_known::Rfc3339,
                    )
                    .unwrap();
                }
                other => panic!("{name}: unexpected ECS type {other}"),
            }
            if !allowed.is_empty() {
                let s = value.as_str().unwrap();
                assert!(
                    allowed.iter().any(|a| a == s),
                    "{name}={s} not in {allowed:?}"
                );
            }
            seen.insert(name);
        }
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
