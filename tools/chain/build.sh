#!/usr/bin/env bash
# Builds the real chain the real-network tests run: wasmd (CometBFT 0.38, ibc-go v8) and the Go relayer,
# from the Go module proxy only, cached outside the repository by version so a warm machine does nothing.
#
#   tools/chain/build.sh            build what is missing, print WASMD_BIN=... and RLY_BIN=...
#   tools/chain/build.sh --check    build nothing: exit 3 naming what is missing (the demo's check)
#   CHAIN_CACHE=/some/dir ...       cache root (default ~/.cache/intent-gate/chain)
#
# Layout: $CHAIN_CACHE/wasmd-<version>/bin/{wasmd,libwasmvm.x86_64.so}, $CHAIN_CACHE/rly-<version>/bin/rly.
# wasmd is linked against libwasmvm.x86_64.so; the binary gets an rpath of $ORIGIN so the copy next to it is
# found without LD_LIBRARY_PATH.
set -euo pipefail

WASMD_VERSION="${WASMD_VERSION:-v0.54.9}"
RLY_VERSION="${RLY_VERSION:-v2.6.0}"
# wasmd 0.54 declares go 1.23; a newer Go fails to link the cosmos-sdk of that time (cosmos-sdk#25911), so the
# toolchain is pinned. Go downloads it from the module proxy as golang.org/toolchain.
GO_TOOLCHAIN="${GO_TOOLCHAIN:-go1.23.12}"
CHAIN_CACHE="${CHAIN_CACHE:-$HOME/.cache/intent-gate/chain}"

export GOTOOLCHAIN="$GO_TOOLCHAIN"
export GOFLAGS="-buildvcs=false"
export CGO_ENABLED=1
# The relayer module carries a go.work; each module is built on its own go.mod.
export GOWORK=off

log() { printf '[chain build] %s\n' "$*" >&2; }

# A writable copy of a module downloaded from the proxy, built there: `go install module@version` refuses
# wasmd (its go.mod has replace directives) and, for the relayer, asks the proxy for the module's version list
# (its deprecation check), which the proxy here refuses (403).
module_copy() {
  local module="$1" version="$2" dir work
  dir="$(cd /tmp && go mod download -json "$module@$version" | sed -n 's/.*"Dir": "\(.*\)",/\1/p')"
  [[ -d "$dir" ]] || { log "go mod download gave no directory for $module@$version"; exit 1; }
  work="$(mktemp -d)"
  cp -r "$dir/." "$work"
  chmod -R u+w "$work"
  echo "$work"
}

build_wasmd() {
  local out="$CHAIN_CACHE/wasmd-$WASMD_VERSION"
  if [[ -x "$out/bin/wasmd" && -f "$out/bin/libwasmvm.x86_64.so" ]]; then return; fi
  log "wasmd $WASMD_VERSION: building with $GO_TOOLCHAIN (minutes on a cold machine)"
  local src vm
  src="$(module_copy github.com/CosmWasm/wasmd "$WASMD_VERSION")"
  local ldflags="-X github.com/cosmos/cosmos-sdk/version.Name=wasm -X github.com/cosmos/cosmos-sdk/version.AppName=wasmd"
  ldflags+=" -X github.com/cosmos/cosmos-sdk/version.Version=${WASMD_VERSION#v}"
  (cd "$src" && go build -mod=mod -tags "netgo ledger" -ldflags "$ldflags -r \$ORIGIN" -o "$src/wasmd.bin" ./cmd/wasmd)
  vm="$(cd "$src" && go list -m -f '{{.Dir}}' github.com/CosmWasm/wasmvm/v2)"
  mkdir -p "$out/bin.tmp"
  cp "$src/wasmd.bin" "$out/bin.tmp/wasmd"
  cp "$vm/internal/api/libwasmvm.x86_64.so" "$out/bin.tmp/"
  rm -rf "$out/bin" && mv "$out/bin.tmp" "$out/bin"
  rm -rf "$src"
}

build_rly() {
  local out="$CHAIN_CACHE/rly-$RLY_VERSION"
  if [[ -x "$out/bin/rly" ]]; then return; fi
  log "rly $RLY_VERSION: building with $GO_TOOLCHAIN"
  local src
  src="$(module_copy github.com/cosmos/relayer/v2 "$RLY_VERSION")"
  local ldflags="-X github.com/cosmos/relayer/v2/cmd.Version=${RLY_VERSION#v}"
  (cd "$src" && go build -mod=mod -ldflags "$ldflags" -o "$src/rly.bin" .)
  mkdir -p "$out/bin.tmp"
  cp "$src/rly.bin" "$out/bin.tmp/rly"
  rm -rf "$out/bin" && mv "$out/bin.tmp" "$out/bin"
  rm -rf "$src"
}

if [[ "${1:-}" == --check ]]; then
  missing=()
  [[ -x "$CHAIN_CACHE/wasmd-$WASMD_VERSION/bin/wasmd" && -f "$CHAIN_CACHE/wasmd-$WASMD_VERSION/bin/libwasmvm.x86_64.so" ]] || missing+=("wasmd $WASMD_VERSION")
  [[ -x "$CHAIN_CACHE/rly-$RLY_VERSION/bin/rly" ]] || missing+=("rly $RLY_VERSION")
  if [[ ${#missing[@]} -gt 0 ]]; then log "not built in $CHAIN_CACHE: ${missing[*]}"; exit 3; fi
else
  mkdir -p "$CHAIN_CACHE"
  build_wasmd
  build_rly
fi
echo "WASMD_BIN=$CHAIN_CACHE/wasmd-$WASMD_VERSION/bin/wasmd"
echo "RLY_BIN=$CHAIN_CACHE/rly-$RLY_VERSION/bin/rly"
