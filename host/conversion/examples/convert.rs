//! Converts objects from the command line, for looking at what the crate does.
//!
//! `convert nvidia.com/v1beta1 < object.json` prints the converted object;
//! `convert --batch < requests.jsonl` reads `{"name", "to", "object"}` lines and prints
//! `{"name", "object"}` or `{"name", "error"}` lines (`"to": "canonical"` prints the
//! object as the webhook would without converting it).

use std::io::{BufRead, Read, Write};

use serde_json::{Value, json};

fn main() {
    let arg = std::env::args().nth(1).unwrap_or_default();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if arg == "--batch" {
        for line in std::io::stdin().lock().lines() {
            let line = line.unwrap_or_else(|e| panic!("stdin: {e}"));
            if line.trim().is_empty() {
                continue;
            }
            let req: Value =
                serde_json::from_str(&line).unwrap_or_else(|e| panic!("bad line: {e}"));
            let to = req["to"].as_str().unwrap_or("");
            let result = if to == "canonical" {
                dynamo_conversion::canonical(&req["object"])
            } else {
                dynamo_conversion::convert(req["object"].clone(), to)
            };
            let answer = match result {
                Ok(o) => json!({ "name": req["name"], "object": o }),
                Err(e) => json!({ "name": req["name"], "error": e.to_string() }),
            };
            let _ = writeln!(out, "{answer}");
        }
        return;
    }
    let mut text = String::new();
    let _ = std::io::stdin().read_to_string(&mut text);
    let object: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("stdin is not JSON: {e}"));
    match dynamo_conversion::convert(object, &arg) {
        Ok(o) => {
            let _ = writeln!(out, "{o}");
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
