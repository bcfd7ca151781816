#!/usr/bin/env bash
# Checks the deploy files without a Docker engine or a cluster: the Kubernetes
# manifests render with kustomize (what `kubectl apply -k` would send), and
# compose.yaml loads with the Compose Specification's loader (what `docker compose`
# reads). Both tools come from the Go module proxy, at pinned versions.
set -euo pipefail
cd "$(dirname "$0")"

# kustomize v5.8.3 needs Go 1.27; v5.8.2 is the newest that builds on Go 1.26.
KUSTOMIZE=sigs.k8s.io/kustomize/kustomize/v5@v5.8.2

out=$(mktemp)
trap 'rm -f "$out"' EXIT
GOFLAGS= go run "$KUSTOMIZE" build k8s >"$out"
kinds=$(grep -E '^kind: ' "$out" | sort | uniq -c | tr -s ' ' | paste -sd, -)
echo "deploy/k8s renders: $kinds"
# What the manifests must keep: no Secret of placeholders, probes, the public URL.
! grep -q '^kind: Secret' "$out" || { echo "deploy/k8s: a Secret is in the kustomization; it must be made in the cluster" >&2; exit 1; }
for want in 'path: /livez' 'path: /healthz' 'AH_PUBLIC_URL:' 'AH_TRUSTED_PROXIES:' 'AH_WORKER_ADDR:' '^ *- migrate$' '^ *- temporal-setup$'; do
  grep -qE -- "$want" "$out" || { echo "deploy/k8s: nothing matches '$want'" >&2; exit 1; }
done

(cd check && GOFLAGS= go run . ../compose.yaml)
