#!/usr/bin/env bash
# Prints the version stamped into binaries: the release in VERSION plus the
# git commit, e.g. 0.1.0+g1a2b3c4 (with -dirty for uncommitted changes).
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/.."

release=$(cat VERSION)
if commit=$(git rev-parse --short HEAD 2>/dev/null); then
  dirty=""
  git diff --quiet HEAD 2>/dev/null || dirty="-dirty"
  echo "${release}+g${commit}${dirty}"
else
  echo "${release}+unknown"
fi
