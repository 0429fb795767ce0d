//! The ECS field check, shared by `tests/audit/ecs_fields.rs` and the CLI's
//! `cli/tests/audit/decisions.rs` (included with `#[path]`): every field of a record
//! is an ECS 9.4.0 field of the right type with an allowed value, except
//! our own `modelseal.*` namespace, which is not an ECS field set.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// The vendored field definitions (data/README.md).
pub(crate) struct Ecs {
    /// flat name -> (type, allowed values, is an array)
    pub(crate) fields: BTreeMap<String, (String, Vec<String>, bool)>,
    /// Every ECS top-level field set.
    pub(crate) field_sets: BTreeSet<String>,
}

/// Load the vendored ECS 9.4.0 extract.
pub(crate) fn ecs() -> Ecs {
    let text = include_str!("../data/ecs_9.4.0_fields.tsv");
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
        let array = cols.get(4).is_some_and(|n| n.contains("array"));
        fields.insert(cols[0].to_string(), (cols[1].to_string(), allowed, array));
    }
    assert!(fields.len() > 400 && field_sets.len() > 40);
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

fn check_value(name: &str, ty: &str, allowed: &[String], value: &Value) {
    match ty {
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
            .unwrap_or_else(|e| panic!("{name}: {value}: {e}"));
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
}

/// Check one record line; the ECS field names it uses (ours left out).
pub(crate) fn check_record(ecs: &Ecs, line: &str) -> BTreeSet<String> {
    let v: Value = serde_json::from_str(line).unwrap();
    let mut flat = BTreeMap::new();
    flatten("", &v, &mut flat);
    let mut seen = BTreeSet::new();
    for (name, value) in flat {
        if name.starts_with("modelseal.") {
            continue;
        }
        let Some((ty, allowed, array)) = ecs.fields.get(&name) else {
            panic!("{name} is not an ECS 9.4.0 field ({line})");
        };
        match &value {
            Value::Array(items) => {
                assert!(array, "{name} is not an array field in ECS");
                assert!(!items.is_empty(), "{name}: empty array");
                for item in items {
                    check_value(&name, ty, allowed, item);
                }
            }
            other => check_value(&name, ty, allowed, other),
        }
        seen.insert(name);
    }
    seen
}
