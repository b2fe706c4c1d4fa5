#!/usr/bin/env bash
# The real-network tests (`npm run test:chain`): builds what they need (wasmd and the relayer, the contract's two
# WebAssembly builds; both cached outside the repository), runs the contract's Rust unit tests for 1.0 and 2.0,
# builds the gateway, then runs test/realchain/*.realchain.ts against real wasmd chains and a real relayer
# (the last one is `intent-gate demo --chain wasmd --quick`, the built demo on real chains).
set -euo pipefail
cd "$(dirname "$0")/../.."

step() { printf '\n== %s (%ss)\n' "$*" "$SECONDS" >&2; }

step "chain binaries"
tools/chain/build.sh >/dev/null
step "settlement contract wasm"
tools/chain/build-contracts.sh >/dev/null
step "contract unit tests (1.0, 2.0)"
cargo test --quiet --manifest-path contracts/settlement/Cargo.toml
cargo test --quiet --manifest-path contracts/settlement/Cargo.toml --features v2
step "gateway build"
npm run --silent build
step "real-network tests"
# One file at a time: each starts its own chains, which is what the two cores can carry.
npx tap --jobs 1 --timeout 1800 --disable-coverage --allow-incomplete-coverage \
  test/realchain/contract.realchain.ts test/realchain/ibc-upgrade.realchain.ts test/realchain/demo.realchain.ts
step "done"
