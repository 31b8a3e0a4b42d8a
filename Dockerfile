# syntax=docker/dockerfile:1
#
# The dynamo-operator image: one static-enough binary (glibc) on distroless, running as non-root.
# The built-in backend plugins (vllm, sglang, trtllm, mpi) are compiled to WebAssembly during the
# build and embedded in the binary, so the image needs nothing else.
#
#   docker build -t <registry>/dynamo-operator:0.1.0 .
#
# Then install charts/dynamo-platform with
# dynamo-operator.controllerManager.manager.image.repository=<registry>/dynamo-operator.

# Bookworm, like the runtime image (distroless cc-debian12): the binary links the same glibc.
FROM rust:1.95-bookworm AS build
# The built-in plugins are built for this target by dynamo-plugin-builtins' build script.
RUN rustup target add wasm32-wasip2
WORKDIR /src
COPY . .
# The caches speed up rebuilds; the binary is copied out of them (cache mounts are not layers).
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release -p dynamo-operator --locked \
 && install -D -m 0755 target/release/dynamo-operator /out/dynamo-operator

FROM gcr.io/distroless/cc-debian12:nonroot
LABEL org.opencontainers.image.title="dynamo-operator" \
      org.opencontainers.image.description="Kubernetes operator for Dynamo inference graphs (nvidia.com/v1alpha1), backends as sandboxed WebAssembly plugins" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /out/dynamo-operator /usr/local/bin/dynamo-operator
# distroless's nonroot user; the chart also runs the pod as 65532 with a read-only root filesystem.
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/dynamo-operator"]
CMD ["run"]
