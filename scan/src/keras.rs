//! Keras archives: a `Lambda` layer stores marshalled Python bytecode in
//! `config.json`, run on load when `safe_mode` is off.

use serde_json::Value;

use crate::ctx::Ctx;
use crate::report::FindingKind;

/// Objects nested deeper than this are not searched (serde_json stops at
/// 128 anyway).
const MAX_DEPTH: u32 = 128;

/// Look for Lambda layers in a Keras `config.json`.
pub(crate) fn check_config(bytes: &[u8], ctx: &mut Ctx<'_>) {
    let Ok(value) = serde_json::from_slice::<Value>(bytes) else {
        return;
    };
    let mut found = Vec::new();
    walk(&value, 0, &mut found);
    for class in found {
        ctx.finding(
            FindingKind::EmbeddedCode,
            0,
            class,
            "a Keras Lambda layer: Python bytecode that runs when the model loads",
        );
    }
}

fn walk(v: &Value, depth: u32, found: &mut Vec<String>) {
    if depth > MAX_DEPTH {
        return;
    }
    match v {
        Value::Object(map) => {
            if let Some(Value::String(class)) = map.get("class_name")
                && (class == "Lambda" || class == "__lambda__")
                && !found.contains(class)
            {
                found.push(class.clone());
            }
            for child in map.values() {
                walk(child, depth + 1, found);
            }
        }
        Value::Array(items) => {
            for child in items {
                walk(child, depth + 1, found);
            }
        }
        _ => {}
    }
}
