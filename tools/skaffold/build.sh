#!/usr/bin/env bash
# Builds skaffold (tools/skaffold/build) and a kubectl of the control plane's version
# (tools/skaffold/kubectl; skaffold renders with `kubectl kustomize` and deploys with
# `kubectl apply`) from their Go modules, once, into ${SWELL_CACHE:-~/.cache/swell}/skaffold-<version>/bin.
# A stamp (hash of both modules and the recipe number below) lets the next run reuse them.
# Prints the bin directory on stdout as its last line; progress goes to stderr.
set -euo pipefail

if [ -n "${SWELL_SKAFFOLD_BIN:-}" ]; then
  # Prebuilt: a folder with skaffold and kubectl.
  for t in skaffold kubectl; do
    [ -x "$SWELL_SKAFFOLD_BIN/$t" ] || { echo "skaffold build: $SWELL_SKAFFOLD_BIN/$t missing" >&2; exit 1; }
  done
  echo "$SWELL_SKAFFOLD_BIN"
  exit 0
fi

here="$(cd "$(dirname "$0")" && pwd)"
skaffold_mod="$here/build"
kubectl_mod="$here/kubectl"

version="$(awk '$1 == "github.com/GoogleContainerTools/skaffold/v2" && $2 ~ /^v/ { print $2; exit }' "$skaffold_mod/go.mod")"
kubectl_version="$(awk '$1 == "k8s.io/kubectl" && $2 ~ /^v/ { print $2; exit }' "$kubectl_mod/go.mod")"
kubectl_version="v1.${kubectl_version#v0.}"
dir="${SWELL_CACHE:-$HOME/.cache/swell}/skaffold-$version"
bin="$dir/bin"
# Bump when the way of building changes (flags, extra files), so caches are rebuilt.
recipe=1
stamp="$( (cat "$skaffold_mod/go.mod" "$skaffold_mod/go.sum" "$kubectl_mod/go.mod" "$kubectl_mod/go.sum" "$kubectl_mod/main.go"
  echo "recipe $recipe") | sha256sum | cut -c1-16)"

complete() {
  [ -f "$dir/stamp" ] && [ "$(cat "$dir/stamp")" = "$stamp" ] && [ -x "$bin/skaffold" ] && [ -x "$bin/kubectl" ]
}

if complete; then
  echo "skaffold build: reusing $bin (skaffold $version, kubectl $kubectl_version)" >&2
  echo "$bin"
  exit 0
fi

# shellcheck source=tools/ci/env.sh
source "$here/../ci/env.sh"
swell_use_go "skaffold build" || exit 1
swell_lock_cache "$dir"
if complete; then
  echo "$bin"
  exit 0
fi

echo "skaffold build: skaffold $version and kubectl $kubectl_version into $bin" >&2
echo "skaffold build: not cached yet, building (minutes on 2 cores; reused afterwards)" >&2
start=$SECONDS
tmp="$dir/bin.tmp"
rm -rf "$tmp"
mkdir -p "$tmp"
log="$dir/build.log"
: >"$log"

# One program: its modules, then 'go build -v' with progress lines (tools/ci/env.sh).
build() {
  local name="$1" mod="$2" ldflags="$3" target="$4"
  (cd "$mod" && go mod download) >&2
  local total
  total="$(cd "$mod" && go list -deps "$target" | wc -l)"
  echo "skaffold build: $name: compiling up to $total packages" >&2
  swell_go_progress "skaffold build" "$name" "$total" "$log" \
    go build -C "$mod" -v -trimpath -ldflags="$ldflags" -o "$tmp/$name" "$target"
}

kubectl_ldflags="$(swell_k8s_ldflags "$kubectl_version")"
build kubectl "$kubectl_mod" "$kubectl_ldflags" .
build skaffold "$skaffold_mod" "-s -w -X github.com/GoogleContainerTools/skaffold/v2/pkg/skaffold/version.version=$version" \
  github.com/GoogleContainerTools/skaffold/v2/cmd/skaffold

rm -rf "$bin"
mv "$tmp" "$bin"
echo "$stamp" >"$dir/stamp"
echo "skaffold build: done in $((SECONDS - start))s" >&2
echo "$bin"
