#!/usr/bin/env bash
# Builds what the real node of the node tests runs, once, into
# ${SWELL_CACHE:-~/.cache/swell}/node-<version>/bin: kubelet and kube-proxy from the Go module in
# tools/node/build (the same Kubernetes version as the control plane), CoreDNS from its Go
# module, and the pause program of the pod sandbox image (pause.c of the same Kubernetes
# module, linked statically). A stamp records what was built, so the next run reuses them.
# Its own folder and stamp: the control plane's cache (tools/cluster/build.sh) is not touched.
# Prints the bin directory on stdout as its last line; progress goes to stderr.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
mod="$here/build"
version="$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v/ { print $2; exit }' "$mod/go.mod")"
cluster_version="$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v/ { print $2; exit }' "$here/../cluster/build/go.mod")"
if [ "$version" != "$cluster_version" ]; then
  echo "node build: tools/node/build pins Kubernetes $version but the control plane is $cluster_version; make them equal" >&2
  exit 1
fi
coredns_version=v1.15.0
dir="${SWELL_CACHE:-$HOME/.cache/swell}/node-$version"
bin="$dir/bin"
# Bump when the way of building changes (flags, extra files), so caches are rebuilt.
recipe=1
stamp="$( (cat "$mod/go.mod" "$mod/go.sum"; echo "coredns $coredns_version recipe $recipe") | sha256sum | cut -c1-16)"
tools=(kubelet kube-proxy coredns pause)

complete() {
  [ -f "$dir/stamp" ] && [ "$(cat "$dir/stamp")" = "$stamp" ] || return 1
  local t
  for t in "${tools[@]}"; do [ -x "$bin/$t" ] || return 1; done
}

if complete; then
  echo "node build: reusing $bin (Kubernetes $version, CoreDNS $coredns_version)" >&2
  echo "$bin"
  exit 0
fi

# shellcheck source=tools/ci/env.sh
source "$here/../ci/env.sh"
swell_use_go "node build" || exit 1
command -v gcc >/dev/null || {
  echo "node build: 'gcc' not found (the pause program is C): apt-get install gcc libc6-dev" >&2
  exit 1
}
swell_lock_cache "$dir"
if complete; then
  echo "$bin"
  exit 0
fi

echo "node build: kubelet, kube-proxy (Kubernetes $version), CoreDNS $coredns_version, pause into $bin" >&2
echo "node build: not cached yet, building (about 10 to 20 min on 2 cores; reused afterwards)" >&2
start=$SECONDS
tmp="$dir/bin.tmp"
rm -rf "$tmp"
mkdir -p "$tmp"
log="$dir/build.log"
: >"$log"

cd "$mod"
echo "node build: downloading Go modules (most are shared with the control plane's)" >&2
go mod download >&2
total="$(go list -deps tool | wc -l)"
swell_go_progress "node build" "kubelet, kube-proxy" "$total" "$log" \
  go build -v -trimpath -ldflags="$(swell_k8s_ldflags "$version")" -o "$tmp/" tool

# CoreDNS at a pinned release, built with its own go.mod and go.sum (checked against the Go
# checksum database), so its dependencies do not bend Kubernetes' and the other way round.
echo "node build: CoreDNS $coredns_version" >&2
: >"$log"
swell_go_progress "node build" "CoreDNS" "about 900" "$log" \
  env GOBIN="$tmp" go install -v -trimpath -ldflags="-s -w" "github.com/coredns/coredns@$coredns_version"

# The pause program every pod sandbox runs (it holds the namespaces and reaps zombies).
k8s_dir="$(go list -m -f '{{.Dir}}' k8s.io/kubernetes)"
gcc -Os -static -Wall -DVERSION="$version" -o "$tmp/pause" "$k8s_dir/build/pause/linux/pause.c"
strip "$tmp/pause"

for t in "${tools[@]}"; do
  [ -x "$tmp/$t" ] || { echo "node build: $t missing after build" >&2; exit 1; }
done
rm -rf "$bin"
mv "$tmp" "$bin"
echo "$stamp" >"$dir/stamp"
echo "node build: done in $((SECONDS - start))s" >&2
echo "$bin"
