#!/usr/bin/env bash
# Installs schemathesis (pinned, from PyPI) into a virtualenv under ${SWELL_CACHE:-~/.cache/swell},
# once, and prints the path of its `st` command as the last line on stdout (progress on stderr).
# Used by the fuzz tests (test/reliability/openapi-fuzz.test.ts); needs python3 >= 3.9 with venv.
set -euo pipefail

version=4.32.5
dir="${SWELL_CACHE:-$HOME/.cache/swell}/schemathesis-$version"
st="$dir/bin/st"

# The stamp is written last: a half-finished install is redone.
if [ -f "$dir/installed" ]; then
  echo "$st"
  exit 0
fi

if ! command -v python3 >/dev/null; then
  echo "schemathesis: python3 (>= 3.9, with the venv module) is needed to install it; on Debian: apt-get install python3-venv" >&2
  exit 1
fi

mkdir -p "$(dirname "$dir")"
# Several test runs may start at once: one installs, the others wait for it.
exec 9>"$dir.lock"
flock 9
if [ ! -f "$dir/installed" ]; then
  echo "installing schemathesis $version into $dir" >&2
  rm -rf "$dir"
  python3 -m venv "$dir" >&2
  "$dir/bin/python" -m pip install --quiet --disable-pip-version-check "schemathesis==$version" >&2
  "$st" --version >&2
  touch "$dir/installed"
fi
echo "$st"
