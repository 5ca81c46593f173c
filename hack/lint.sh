#!/usr/bin/env bash
# Checks, in every module: gofmt, go vet, go.mod tidiness and golangci-lint
# (the set in .golangci.yml, version pinned in hack/tools/lint). Then it runs
# the shell linter over every script in the repository.
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/.."
root=$PWD

lint=$root/_output/tools/golangci-lint
if [ ! -x "$lint" ]; then
  echo "building golangci-lint (pinned in hack/tools/lint/go.mod)"
  mkdir -p _output/tools
  (cd hack/tools/lint && GOWORK=off go build -o "$lint" github.com/golangci/golangci-lint/v2/cmd/golangci-lint)
fi

status=0
mapfile -t modules < <(hack/modules.sh)
unformatted=$(gofmt -l "${modules[@]}")
if [ -n "$unformatted" ]; then
  printf 'gofmt needed:\n%s\n' "$unformatted"
  status=1
fi
for dir in "${modules[@]}"; do
  echo "== lint ${dir#"$root"/}"
  # Chained with &&: errexit does not apply in a subshell tested by ||.
  (
    cd "$dir" &&
      # The e2e tag adds files and removes none, so one vet covers both builds.
      go vet -tags e2e ./... &&
      GOWORK=off go mod tidy -diff &&
      "$lint" run --config "$root/.golangci.yml" ./...
  ) || status=1
done

# The lab drives kind from macOS and Windows laptops too: its Linux-only parts (the local cluster) must keep to
# files that build only there. vet type-checks every package for those systems without linking.
for goos in darwin windows; do
  echo "== vet lab for $goos"
  (cd lab && GOOS=$goos GOARCH=arm64 go vet ./...) || status=1
done

if ! command -v shellcheck >/dev/null; then
  apt-get -oDPkg::Lock::Timeout=300 install -y -qq shellcheck >/dev/null
fi
echo "== shellcheck"
git ls-files -z --cached --others --exclude-standard -- '*.sh' '*.envsh' '.ci/run' hack/ci-kind/cloud-provider-kind hack/ci-kind/runc-without-sys-resource hack/ci-kind/node/usr/local/bin/podpaths-entrypoint | xargs -0 --no-run-if-empty shellcheck || status=1
exit "$status"
