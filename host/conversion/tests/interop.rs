//! Interop vectors: for every conversion Dynamo 1.5's own webhook code performed
//! (`tests/fixtures/dynamo-1.5/conversion/vectors.jsonl`, see its NOTICE), this crate gives the
//! same answer: the same object, and the same payload annotations byte for byte.

#![allow(missing_docs)]

use dynamo_conversion::convert;
use serde_json::Value;

const PAYLOADS: [&str; 4] = [
    "nvidia.com/dgd-spec",
    "nvidia.com/dgd-status",
    "nvidia.com/dcd-spec",
    "nvidia.com/dcd-status",
];

fn vectors() -> Vec<Value> {
    let path = dynamo_fixtures::dynamo_1_5_dir()
        .join("conversion")
        .join("vectors.jsonl");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("{}: bad line: {e}", path.display()))
        })
        .collect()
}

fn payloads(object: &Value) -> Vec<(&'static str, Option<String>)> {
    PAYLOADS
        .iter()
        .map(|k| {
            (
                *k,
                object
                    .pointer("/metadata/annotations")
                    .and_then(|a| a.get(*k))
                    .and_then(Value::as_str)
                    .map(String::from),
            )
        })
        .collect()
}

#[test]
fn every_vector_converts_exactly_as_dynamo_does() {
    let vectors = vectors();
    assert!(
        vectors.len() >= 700,
        "expected the full vector set, found {}",
        vectors.len()
    );
    let mut failures = Vec::new();
    let mut with_payload = 0;
    for vector in &vectors {
        let name = vector["name"].as_str().unwrap_or("?");
        let to = vector["desiredAPIVersion"].as_str().unwrap_or("");
        let ours = convert(vector["input"].clone(), to);
        match (ours, vector.get("output"), vector.get("error")) {
            (Ok(ours), Some(theirs), _) => {
                if payloads(&ours) != payloads(theirs) {
                    failures.push(format!(
                        "{name}: payload annotations differ:\n  ours {:?}\n  Go   {:?}",
                        payloads(&ours),
                        payloads(theirs)
                    ));
                } else if &ours != theirs {
                    failures.push(format!(
                        "{name}: objects differ:\n  ours {ours}\n  Go   {theirs}"
                    ));
                }
                if payloads(theirs).iter().any(|(_, p)| p.is_some()) {
                    with_payload += 1;
                }
            }
            (Err(_), None, Some(_)) => {}
            (Ok(_), None, Some(e)) => {
                failures.push(format!("{name}: Dynamo failed ({e}), we converted"))
            }
            (Err(e), Some(_), _) => {
                failures.push(format!("{name}: we failed ({e}), Dynamo converted"))
            }
            (_, None, None) => {
                failures.push(format!("{name}: vector has neither output nor error"))
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} vectors disagree:\n{}",
        failures.len(),
        vectors.len(),
        failures[..failures.len().min(5)].join("\n")
    );
    assert!(
        with_payload >= 250,
        "expected most vectors to exercise payloads, {with_payload} did"
    );
}
