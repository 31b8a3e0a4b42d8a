//! Cost of serving two API versions: converting graphs between `nvidia.com/v1alpha1` and
//! `nvidia.com/v1beta1`, as the `/convert` webhook does for every request at the version an
//! object is not stored at, and as `render` and admission do for a `v1alpha1` graph.
//!
//! `cargo bench -p dynamo-bench --bench conversion`. See `BENCHMARKS.md`.
//!
//! Groups:
//! - `convert/{up,down}/<anchor>`: one graph `v1alpha1 → v1beta1` (up) and back (down), the
//!   payload annotations written and read included.
//! - `review/up/<n>`: a ConversionReview of `n` graphs, request JSON in, response JSON out (what
//!   the webhook handler runs per API-server call), reported per object.
//! - `read_graph/{v1beta1,v1alpha1}/<anchor>`: a graph document read into the `v1beta1` model,
//!   from each version (the edge conversion `render` and the admission webhooks pay).

mod common;

use std::hint::black_box;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use serde_json::{Value, json};

const V1ALPHA1: &str = "nvidia.com/v1alpha1";
const V1BETA1: &str = "nvidia.com/v1beta1";

/// Anchor `name` as its v1alpha1 JSON document, and its v1beta1 conversion.
fn versions(name: &str) -> (Value, Value) {
    let example = dynamo_fixtures::anchor_example(name);
    let alpha: Value = serde_yaml_ng::from_str(&example.text).expect("anchor parses");
    let beta = dynamo_conversion::convert(alpha.clone(), V1BETA1).expect("converts up");
    // The round trip is lossless, or the figures measure the wrong thing.
    let back = dynamo_conversion::convert(beta.clone(), V1ALPHA1).expect("converts down");
    assert_eq!(
        dynamo_conversion::canonical(&back).expect("canonical"),
        dynamo_conversion::canonical(&alpha).expect("canonical"),
        "{name}"
    );
    (alpha, beta)
}

fn convert(c: &mut Criterion) {
    let mut group = c.benchmark_group("convert");
    for name in [common::AGG, common::DISAGG_MULTINODE] {
        let (alpha, beta) = versions(name);
        group.bench_with_input(BenchmarkId::new("up", name), &alpha, |b, alpha| {
            b.iter_batched(
                || alpha.clone(),
                |object| dynamo_conversion::convert(black_box(object), V1BETA1).expect("up"),
                BatchSize::SmallInput,
            );
        });
        group.bench_with_input(BenchmarkId::new("down", name), &beta, |b, beta| {
            b.iter_batched(
                || beta.clone(),
                |object| dynamo_conversion::convert(black_box(object), V1ALPHA1).expect("down"),
                BatchSize::SmallInput,
            );
        });
    }
    group.finish();
}

fn review(c: &mut Criterion) {
    let (alpha, _) = versions(common::DISAGG_MULTINODE);
    let mut group = c.benchmark_group("review");
    for n in [1_usize, 100] {
        let objects: Vec<Value> = (0..n)
            .map(|i| {
                let mut object = alpha.clone();
                object["metadata"]["name"] = json!(format!("graph-{i}"));
                object
            })
            .collect();
        let request = json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "ConversionReview",
            "request": {"uid": "bench", "desiredAPIVersion": V1BETA1, "objects": objects},
        });
        let body = serde_json::to_vec(&request).expect("serializes");
        let answer = dynamo_conversion::review(&request);
        assert_eq!(answer["response"]["result"]["status"], "Success");
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("up", n), &body, |b, body| {
            b.iter(|| {
                let request: Value = serde_json::from_slice(black_box(body)).expect("parses");
                serde_json::to_vec(&dynamo_conversion::review(&request)).expect("serializes")
            });
        });
    }
    group.finish();
}

fn read_graph(c: &mut Criterion) {
    let mut group = c.benchmark_group("read_graph");
    for name in [common::AGG, common::DISAGG_MULTINODE] {
        let (alpha, beta) = versions(name);
        assert_eq!(
            dynamo_render::input::graph(alpha.clone()).expect("reads"),
            dynamo_render::input::graph(beta.clone()).expect("reads"),
            "{name}: both versions read as the same graph"
        );
        for (version, document) in [("v1beta1", beta), ("v1alpha1", alpha)] {
            group.bench_with_input(BenchmarkId::new(version, name), &document, |b, doc| {
                b.iter_batched(
                    || doc.clone(),
                    |doc| dynamo_render::input::graph(black_box(doc)).expect("reads"),
                    BatchSize::SmallInput,
                );
            });
        }
    }
    group.finish();
}

criterion_group!(benches, convert, review, read_graph);
criterion_main!(benches);
