#!/usr/bin/env bash
# A vulnerability report, offline: govulncheck against a database built from the
# golang.org/x/vulndb module (its data/osv folder holds every Go advisory as OSV
# JSON; its cmd/indexdb writes the index govulncheck's -db file:// expects), both
# fetched through the Go module proxy at pinned versions (vuln.go.dev itself cannot
# be reached from here). A newer VULNDB_VERSION brings newer advisories.
#
# It reports and does not fail the build on findings: most of them are advisories
# of the standard library fixed in a newer Go patch release than the one
# installed, which this project cannot change by itself. It fails only when the
# tools cannot run.
set -euo pipefail
cd "$(dirname "$0")/.."

VULNDB_VERSION=v0.0.0-20261105234957-e22db6528018
GOVULNCHECK=golang.org/x/vuln/cmd/govulncheck@v1.9.0

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
src=$(GOFLAGS=-mod=mod go mod download -json "golang.org/x/vulndb@$VULNDB_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -d "$src/data/osv" ] || { echo "vulncheck: no data/osv in golang.org/x/vulndb@$VULNDB_VERSION ($src)" >&2; exit 1; }
GOFLAGS= go run "golang.org/x/vulndb/cmd/indexdb@$VULNDB_VERSION" -vulns "$src/data/osv" -out "$work/db"
echo "vulnerability database: golang.org/x/vulndb@$VULNDB_VERSION, $(ls "$src/data/osv" | wc -l) advisories"

# Built, not `go run`: go run turns the tool's exit code 3 (findings) into 1.
GOFLAGS= GOBIN="$work/bin" go install "$GOVULNCHECK"
set +e
"$work/bin/govulncheck" -db "file://$work/db" ./... >"$work/report" 2>&1
code=$?
set -e
cat "$work/report"
case $code in
  0) echo "vulncheck: no known vulnerability is reached from this code" ;;
  3) echo "vulncheck: the findings above are reported, not enforced ($(grep -c '^Vulnerability #' "$work/report") reached from the code; stdlib ones need a newer Go patch release)" ;;
  *) echo "vulncheck: govulncheck failed (exit $code)" >&2; exit "$code" ;;
esac
