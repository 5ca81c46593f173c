#!/usr/bin/env bash
# Everything `make verify` checks: the code (gofmt, vet, tidy, golangci-lint,
# the shell linter), the rendered manifests (strict decoding and meaning checks in
# deploy/validate), and every nginx variant with `nginx -t`.
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/.."

hack/lint.sh
echo "== manifests"
(cd deploy && go test -count=1 ./validate)
echo "== nginx -t"
hack/verify-nginx.sh
