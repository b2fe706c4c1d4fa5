#!/usr/bin/env bash
# Builds the real chain the real-network tests run: wasmd (CometBFT 0.38, ibc-go v8) and the Go relayer,
# from the Go module proxy only, cached outside the repository by version so a warm machine does nothing.
#
#   tools/chain/build.sh            build what is missing, print the bin directory
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

log() { printf '[chain build] %s\n' "$*" >&2; }

build_wasmd() {
  local out="$CHAIN_CACHE/wasmd-$WASMD_VERSION"
  if [[ -x "$out/bin/wasmd" && -f "$out/bin/libwasmvm.x86_64.so" ]]; then return; fi
  log "wasmd $WASMD_VERSION: downloading the module"
  local dir
  # `go install` refuses a module with replace directives; a writable copy of the module honours them.
  dir="$(cd /tmp && go mod download -json "github.com/CosmWasm/wasmd@$WASMD_VERSION" | sed -n 's/.*"Dir": "\(.*\)",/\1/p')"
  [[ -d "$dir" ]] || { log "go mod download gave no directory for wasmd $WASMD_VERSION"; exit 1; }
  local work
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' RETURN
  cp -r "$dir/." "$work/src"
  chmod -R u+w "$work/src"
  cd "$work/src"
  log "wasmd $WASMD_VERSION: building with $GO_TOOLCHAIN (minutes on a cold machine)"
  local ldflags="-X github.com/cosmos/cosmos-sdk/version.Name=wasm -X github.com/cosmos/cosmos-sdk/version.AppName=wasmd"
  ldflags+=" -X github.com/cosmos/cosmos-sdk/version.Version=${WASMD_VERSION#v}"
  go build -mod=mod -tags "netgo ledger" -ldflags "$ldflags -r \$ORIGIN" -o "$work/wasmd" ./cmd/wasmd
  local vm
  vm="$(go list -m -f '{{.Dir}}' github.com/CosmWasm/wasmvm/v2)"
  mkdir -p "$out/bin.tmp"
  cp "$work/wasmd" "$out/bin.tmp/wasmd"
  cp "$vm/internal/api/libwasmvm.x86_64.so" "$out/bin.tmp/"
  rm -rf "$out/bin" && mv "$out/bin.tmp" "$out/bin"
  cd - >/dev/null
}

build_rly() {
  local out="$CHAIN_CACHE/rly-$RLY_VERSION"
  if [[ -x "$out/bin/rly" ]]; then return; fi
  log "rly $RLY_VERSION: go install"
  mkdir -p "$out"
  (cd /tmp && GOBIN="$out/bin.tmp" go install "github.com/cosmos/relayer/v2@$RLY_VERSION")
  rm -rf "$out/bin" && mv "$out/bin.tmp" "$out/bin"
}

mkdir -p "$CHAIN_CACHE"
build_wasmd
build_rly
echo "WASMD_BIN=$CHAIN_CACHE/wasmd-$WASMD_VERSION/bin/wasmd"
echo "RLY_BIN=$CHAIN_CACHE/rly-$RLY_VERSION/bin/rly"
