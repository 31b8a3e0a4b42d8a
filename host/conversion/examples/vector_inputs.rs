//! Writes the generated objects the interop vectors start from, one `{"name", "object"}` JSON
//! line each: `vector_inputs <count> [seed]`. The vectors themselves are Dynamo's conversion of
//! these objects (see `tests/fixtures/dynamo-1.5/conversion/NOTICE.md`).

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::json;

#[path = "../tests/support/gen.rs"]
#[allow(dead_code)]
mod generate;

fn main() {
    let count: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(300);
    let seed: u8 = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(7);
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32]);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    let strategy = generate::any_object();
    for i in 0..count {
        let object = strategy
            .new_tree(&mut runner)
            .unwrap_or_else(|e| panic!("generating object {i}: {e}"))
            .current();
        println!(
            "{}",
            json!({ "name": format!("generated/{i:04}"), "object": object })
        );
    }
}
