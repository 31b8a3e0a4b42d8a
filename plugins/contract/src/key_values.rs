//! Serde adapter for `list<key-value>` fields: written as a list, read from a list or a map.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::KeyValue;

/// Serializes the pairs as a list of `{key, value}` objects, in order.
pub fn serialize<S: Serializer>(pairs: &[KeyValue], serializer: S) -> Result<S::Ok, S::Error> {
    pairs.serialize(serializer)
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Repr {
    List(Vec<KeyValue>),
    Map(BTreeMap<String, String>),
}

/// Accepts a list of `{key, value}` objects or a plain map (sorted by key).
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<KeyValue>, D::Error> {
    Ok(match Option::<Repr>::deserialize(deserializer)? {
        None => Vec::new(),
        Some(Repr::List(pairs)) => pairs,
        Some(Repr::Map(map)) => map
            .into_iter()
            .map(|(key, value)| KeyValue { key, value })
            .collect(),
    })
}
