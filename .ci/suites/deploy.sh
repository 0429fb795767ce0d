#!/usr/bin/env bash
# Kubernetes examples suite (deploy/kubernetes), offline:
#   1. every manifest validates against the Kubernetes 1.37 schemas shipped in
#      kubernetes-validate (--strict: unknown fields refused), and a manifest
#      with a misspelt field does not;
#   2. the policy ConfigMap, laid out as the Deployment mounts it next to the
#      trust ConfigMap (the TEST root in place of the placeholder), passes
#      `modelseal policy check`;
#   3. the audit shipper's rsyslog.conf passes `rsyslogd -N1`, and ships for
#      real: a shipper rsyslogd with that configuration (paths, target and
#      port rewritten) tails an audit log modelseal writes and forwards it
#      over TLS, peer name checked, to a collector rsyslogd on 127.0.0.1,
#      which receives the lines byte for byte; they verify as a chain.
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

echo "--- audit shipper end to end: imfile -> syslog/TLS (x509/name) -> a collector"
# Collector: a private rsyslogd with a TLS listener on 127.0.0.1 and a
# certificate for siem.example.com from a CA made here. Shipper: the
# ConfigMap's rsyslog.conf as shipped, only the paths, the target address
# and the port rewritten (the peer name check stays siem.example.com).
tls=$work/tls
mkdir -p "$tls" "$work/audit" "$work/shipper-spool" "$work/collector"
(
  cd "$tls"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem \
    -days 2 -subj "/CN=siem test CA" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout srv.key -out srv.csr \
    -subj "/CN=siem.example.com"
  printf 'subjectAltName=DNS:siem.example.com\nextendedKeyUsage=serverAuth\n' > ext.cnf
  openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 \
    -extfile ext.cnf
) >/dev/null 2>&1
port=$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$work/collector.conf" <<CONF
global(workDirectory="$work/collector" maxMessageSize="64k" DefaultNetstreamDriver="gtls"
       DefaultNetstreamDriverCAFile="$tls/ca.pem" DefaultNetstreamDriverCertFile="$tls/srv.pem"
       DefaultNetstreamDriverKeyFile="$tls/srv.key")
module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1" StreamDriver.AuthMode="anon")
template(name="msgonly" type="string" string="%msg%\n")
ruleset(name="in") { action(type="omfile" file="$work/received.log" template="msgonly") }
input(type="imtcp" address="127.0.0.1" port="$port" ruleset="in")
CONF
sed -e "s#/var/spool/rsyslog#$work/shipper-spool#" -e "s#/etc/rsyslog-tls/ca.pem#$tls/ca.pem#" \
  -e "s#/var/lib/modelseal/audit/audit.log#$work/audit/audit.log#" \
  -e "s#target=\"siem.example.com\" port=\"6514\"#target=\"127.0.0.1\" port=\"$port\"#" \
  "$work/rsyslog.conf" > "$work/shipper.conf"
expect 0 "only the paths, target and port were rewritten" -- \
  diff <(grep -c . "$work/rsyslog.conf") <(grep -c . "$work/shipper.conf")
expect 0 "the peer name check is the shipped one" -- grep -F 'StreamDriverPermittedPeers="siem.example.com"' "$work/shipper.conf"
pids=()
stop() {
  # rsyslogd may keep retrying an undeliverable queue on SIGTERM: then SIGKILL.
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 0.5
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap stop EXIT
rsyslogd -n -f "$work/collector.conf" -i "$work/collector.pid" >"$work/collector.out" 2>&1 &
pids+=($!)
# The shipper starts once the collector listens (its retry interval is 30 s).
for _ in $(seq 100); do
  "$py" -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$port" \
    2>/dev/null && break
  sleep 0.2
done
rsyslogd -n -f "$work/shipper.conf" -i "$work/shipper.pid" >"$work/shipper.out" 2>&1 &
pids+=($!)

ms=target/debug/modelseal
"$ms" audit keygen --out "$work/audit-keys" >/dev/null
cp -r fixtures/models/demo "$work/model"
install -m 600 fixtures/pki/p256/leaf.key "$work/signer.key"
"$ms" sign "$work/model" --key "$work/signer.key" --cert fixtures/pki/p256/leaf.pem \
  --chain fixtures/pki/p256/chain.pem --signature "$work/model.sig" -q
audited_verify() {
  "$ms" verify "$1" --signature "$work/model.sig" --trust-root fixtures/pki/p256/root.pem \
    --identity email:release-a@modelseal.test -q \
    --audit-log "$work/audit/audit.log" --audit-key "$work/audit-keys/writer.key"
}
expect 0 "a decision recorded in the audit log (success)" -- audited_verify "$work/model"
printf 'x' >> "$work/model/config.json"
expect 1 "and another (rejection)" -- audited_verify "$work/model"
for _ in $(seq 100); do
  [ -f "$work/received.log" ] && [ "$(wc -l < "$work/received.log")" -ge 2 ] && break
  sleep 0.2
done
if [ ! -s "$work/received.log" ]; then
  echo "     | collector: $(cat "$work/collector.out")"
  echo "     | shipper: $(cat "$work/shipper.out")"
fi
expect 0 "the collector received both records over TLS" -- cat "$work/received.log"
expect_out '"action":"model.verify".*"outcome":"success"' "the success"
expect_out '"action":"model.verify".*"outcome":"failure".*digest mismatch' "the rejection"
expect 0 "byte for byte the local log's lines" -- cmp "$work/audit/audit.log" "$work/received.log"
expect 0 "what the SIEM received verifies as a chain" -- \
  "$ms" audit verify --log "$work/received.log" --key "$work/audit-keys/verifier.key"

finish deploy
