#!/usr/bin/env bash
# Kubernetes examples suite (deploy/kubernetes), offline:
#   1. every manifest validates against the Kubernetes 1.37 schemas shipped in
#      kubernetes-validate (--strict: unknown fields refused), and a manifest
#      with a misspelt field does not;
#   2. the policy ConfigMap, laid out as the Deployment mounts it next to the
#      trust ConfigMap (the TEST root in place of the placeholder), passes
#      `modelseal policy check`;
#   3. the audit shipper's rsyslog.conf passes `rsyslogd -N1`.
# The Deployment's gate command line itself runs in podman in
# .ci/suites/packaging.sh (it needs the image).
set -euo pipefail
cd "$(dirname "$0")/../.."
source .ci/lib/check.sh

venv=${MODELSEAL_DEPLOY_VENV:-$PWD/.venv-deploy}
require "$venv/bin/kubernetes-validate" "run .ci/deps/deploy-tools.sh"
require rsyslogd "run .ci/deps/rsyslog.sh"
require cargo "install a Rust toolchain"
py=$venv/bin/python

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "--- schemas"
expect 0 "kubernetes-validate --strict deploy/kubernetes/*.yaml" -- \
  "$venv/bin/kubernetes-validate" --strict -k 1.37.0 deploy/kubernetes/*.yaml
for f in deploy/kubernetes/*.yaml; do
  expect_out "$(basename "$f") passed" "$(basename "$f") validated"
done
expect_no_out 'failed|error' "no resource failed"
sed 's/readOnlyRootFilesystem: true/readOnlyRootFileSystem: true/' \
  deploy/kubernetes/deployment-gate.yaml > "$work/misspelt.yaml"
expect 1 "a misspelt securityContext field is refused" -- \
  "$venv/bin/kubernetes-validate" --strict -k 1.37.0 "$work/misspelt.yaml"

# ConfigMap data -> files, as the kubelet mounts them.
configmap_file() { # FILE KEY OUT
  "$py" -c 'import sys, yaml; open(sys.argv[3], "w").write(yaml.safe_load(open(sys.argv[1]))["data"][sys.argv[2]])' "$@"
}

echo "--- policy ConfigMap"
cargo build -q --locked -p modelseal
mkdir -p "$work/etc/modelseal/policy" "$work/etc/modelseal/trust"
configmap_file deploy/kubernetes/policy-configmap.yaml policy.json "$work/etc/modelseal/policy/policy.json"
configmap_file deploy/kubernetes/trust-configmap.yaml release-root.pem "$work/placeholder.pem"
expect 0 "the trust ConfigMap is a placeholder to replace" -- cat "$work/placeholder.pem"
expect_out 'REPLACE-WITH-YOUR-RELEASE-ROOT-CERTIFICATE' "it says so"
cp fixtures/pki/p256/root.pem "$work/etc/modelseal/trust/release-root.pem"
cp fixtures/pki/bad/revoked.crl.pem "$work/etc/modelseal/trust/release-ca.crl.pem"
expect 0 "modelseal policy check on the mounted layout" -- \
  target/debug/modelseal policy check "$work/etc/modelseal/policy/policy.json"
rm "$work/etc/modelseal/trust/release-root.pem"
expect 2 "without the trust material the policy does not load" -- \
  target/debug/modelseal policy check "$work/etc/modelseal/policy/policy.json"

echo "--- audit shipper"
configmap_file deploy/kubernetes/audit-shipper-configmap.yaml rsyslog.conf "$work/rsyslog.conf"
mkdir -p "$work/spool"
cp fixtures/pki/p256/root.pem "$work/ca.pem"
sed -e "s#/var/spool/rsyslog#$work/spool#" -e "s#/etc/rsyslog-tls/ca.pem#$work/ca.pem#" \
  "$work/rsyslog.conf" > "$work/rsyslog-local.conf"
expect 0 "rsyslogd -N1 accepts the shipper configuration" -- rsyslogd -N1 -f "$work/rsyslog-local.conf"
sed 's/StreamDriverMode="1"/StreamDriverMode="1" NoSuchParameter="x"/' \
  "$work/rsyslog-local.conf" > "$work/rsyslog-bad.conf"
expect 1 "and refuses a broken one" -- rsyslogd -N1 -f "$work/rsyslog-bad.conf"

finish deploy
