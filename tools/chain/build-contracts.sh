#!/usr/bin/env bash
# Builds the settlement contract to WebAssembly twice, version 1.0 and 2.0 (feature `v2`), cached outside the
# repository by a hash of its sources, so a warm machine only hashes.
#
#   tools/chain/build-contracts.sh        prints SETTLEMENT_1_0_WASM=... and SETTLEMENT_2_0_WASM=...
#   tools/chain/build-contracts.sh --check    builds nothing: exit 3 when this source's builds are not cached
#
# The only wasm32 standard library this machine can get is Debian's (rustc 1.63 + libstd-rust-dev-wasm32;
# rustup cannot download targets here; it links with rust-lld from Debian's lld). Debian's cargo cannot read crates.io's sparse index, and rustup's cargo
# passes flags rustc 1.63 does not know, so: rustup's cargo vendors the crates of Cargo.lock (pinned to releases
# that build with 1.63), then Debian's cargo builds offline from that vendor directory with Debian's rustc.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
SRC="$ROOT/contracts/settlement"
CACHE="${CONTRACT_CACHE:-$HOME/.cache/intent-gate/contracts}"
VENDOR_CARGO="${VENDOR_CARGO:-$HOME/.cargo/bin/cargo}"
WASM_CARGO="${WASM_CARGO:-/usr/bin/cargo}"
WASM_RUSTC="${WASM_RUSTC:-/usr/bin/rustc}"

log() { printf '[contracts] %s\n' "$*" >&2; }

for tool in "$VENDOR_CARGO" "$WASM_CARGO" "$WASM_RUSTC"; do
  [[ -x "$tool" ]] || { log "$tool is missing (Debian: apt-get install rustc cargo libstd-rust-dev-wasm32 lld; rustup's cargo vendors)"; exit 1; }
done
[[ -d "$("$WASM_RUSTC" --print sysroot)/lib/rustlib/wasm32-unknown-unknown" ]] || {
  log "no wasm32-unknown-unknown standard library for $WASM_RUSTC (Debian: apt-get install libstd-rust-dev-wasm32)"; exit 1; }

hash="$( (cd "$SRC" && find Cargo.toml Cargo.lock src -type f -print0 | sort -z | xargs -0 sha256sum; "$WASM_RUSTC" --version) | sha256sum | cut -c1-16)"
out="$CACHE/settlement-$hash"
if [[ "${1:-}" == --check && ( ! -f "$out/settlement-1.0.wasm" || ! -f "$out/settlement-2.0.wasm" ) ]]; then
  log "the settlement contract of these sources is not built in $CACHE"; exit 3
fi
if [[ ! -f "$out/settlement-1.0.wasm" || ! -f "$out/settlement-2.0.wasm" ]]; then
  lockhash="$(sha256sum "$SRC/Cargo.lock" | cut -c1-16)"
  vendor="$CACHE/vendor-$lockhash"
  if [[ ! -d "$vendor" ]]; then
    log "vendoring the crates of Cargo.lock"
    (cd "$SRC" && "$VENDOR_CARGO" vendor --locked "$vendor.tmp" >/dev/null)
    mv "$vendor.tmp" "$vendor"
  fi
  home="$(mktemp -d)"
  target="$CACHE/target"
  trap 'rm -rf "$home"' EXIT
  printf '[source.crates-io]\nreplace-with = "vendored-sources"\n[source.vendored-sources]\ndirectory = "%s"\n' "$vendor" > "$home/config.toml"
  mkdir -p "$out.tmp"
  for version in 1.0 2.0; do
    features=()
    [[ "$version" == 2.0 ]] && features=(--features v2)
    log "building settlement $version with $("$WASM_RUSTC" --version)"
    (cd "$SRC" && CARGO_HOME="$home" RUSTC="$WASM_RUSTC" RUSTFLAGS="-C link-arg=-s" \
      "$WASM_CARGO" build --offline --locked --lib --release --target wasm32-unknown-unknown \
      --target-dir "$target" "${features[@]}" >&2)
    cp "$target/wasm32-unknown-unknown/release/intent_settlement.wasm" "$out.tmp/settlement-$version.wasm"
  done
  rm -rf "$out" && mv "$out.tmp" "$out"
fi
echo "SETTLEMENT_1_0_WASM=$out/settlement-1.0.wasm"
echo "SETTLEMENT_2_0_WASM=$out/settlement-2.0.wasm"
