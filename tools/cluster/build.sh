#!/usr/bin/env bash
# Builds the local control plane for the cluster tests (etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, kwok) from the Go module in tools/cluster/build,
# once, into ${SWELL_CACHE:-~/.cache/swell}/k8s-<version>/bin. A stamp file records what was
# built (hash of go.mod, go.sum and the recipe number below), so the next run reuses them.
# Prints the bin directory on stdout as its last line; progress goes to stderr.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
mod="$here/build"

if [ -n "${SWELL_TEST_KUBECONFIG:-}" ]; then
  echo "SWELL_TEST_KUBECONFIG is set: using that cluster, nothing to build" >&2
  exit 0
fi

version="$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v/ { print $2; exit }' "$mod/go.mod")"
dir="${SWELL_CACHE:-$HOME/.cache/swell}/k8s-$version"
bin="$dir/bin"
# Bump when the way of building changes (flags, extra files), so caches are rebuilt.
recipe=2
stamp="$( (cat "$mod/go.mod" "$mod/go.sum"; echo "recipe $recipe") | sha256sum | cut -c1-16)"
tools=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)

complete() {
  [ -f "$dir/stamp" ] && [ "$(cat "$dir/stamp")" = "$stamp" ] || return 1
  local t
  for t in "${tools[@]}"; do [ -x "$bin/$t" ] || return 1; done
  [ -f "$bin/kwok-stages.yaml" ]
}

if complete; then
  echo "cluster build: reusing $bin (Kubernetes $version)" >&2
  echo "$bin"
  exit 0
fi

# shellcheck source=tools/ci/env.sh
source "$here/../ci/env.sh"
swell_use_go "cluster build" || exit 1
swell_lock_cache "$dir"
if complete; then
  echo "$bin"
  exit 0
fi

echo "cluster build: Kubernetes $version, kwok and etcd into $bin" >&2
echo "cluster build: not cached yet, building (about 5 to 10 min on 2 cores; reused afterwards)" >&2
start=$SECONDS
cd "$mod"
echo "cluster build: downloading Go modules (about 750 MB on a fresh machine)" >&2
go mod download >&2
total="$(go list -deps tool | wc -l)"
echo "cluster build: compiling up to $total packages and linking 5 programs" >&2
tmp="$dir/bin.tmp"
rm -rf "$tmp"
mkdir -p "$tmp"

log="$dir/build.log"
: >"$log"
swell_go_progress "cluster build" "5 programs" "$total" "$log" \
  go build -v -trimpath -ldflags="$(swell_k8s_ldflags "$version")" -o "$tmp/" tool

# The etcd main package is go.etcd.io/etcd/server/v3, so Go names its binary 'server'.
for name in server v3; do [ -x "$tmp/$name" ] && mv "$tmp/$name" "$tmp/etcd"; done
# kwok needs stages (how fake nodes and pods move through their lifecycle); take kwok's own
# "fast" set from its module, so they always match the kwok version: nodes become Ready and
# keep a Lease, pods become Running and Ready at once, and deleted pods go away.
stages="$(go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)/kustomize/stage"
for f in node/fast/node-initialize node/heartbeat-with-lease/node-heartbeat-with-lease \
  pod/fast/pod-ready pod/fast/pod-complete pod/fast/pod-delete; do
  echo "---"
  cat "$stages/$f.yaml"
done >"$tmp/kwok-stages.yaml"

for t in "${tools[@]}"; do
  [ -x "$tmp/$t" ] || { echo "cluster build: $t missing after build" >&2; exit 1; }
done
rm -rf "$bin"
mv "$tmp" "$bin"
echo "$stamp" >"$dir/stamp"
echo "cluster build: done in $((SECONDS - start))s" >&2
echo "$bin"
