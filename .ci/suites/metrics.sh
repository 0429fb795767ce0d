#!/usr/bin/env bash
# Metrics suite: `--metrics-file` on sign, verify and gate.
#   1. decisions of each kind (success, rejected with its failing check,
#      error) land in one file that `promtool check metrics` accepts, with
#      the counts, bytes hashed and the signer certificate's notAfter;
#   2. the file is replaced atomically (a new inode each run, no temporary
#      file left), counters accumulate across runs, concurrent ones included
#      (a lock beside the file), a foreign file is taken over, and an
#      unwritable path never changes the decision;
#   3. the example alert rules (docs/prometheus) pass `promtool check rules`
#      and their unit tests (`promtool test rules`).
# Tools: promtool (.ci/deps/packaging.sh: Debian's prometheus), openssl.
set -euo pipefail
cd "$(dirname "$0")/../.."
source .ci/lib/check.sh

require promtool "run .ci/deps/packaging.sh (Debian package prometheus)"
require openssl "run .ci/deps/rsyslog.sh"
require cargo "install a Rust toolchain"
cargo build -q --locked -p modelseal
ms=$PWD/target/debug/modelseal
pki=$PWD/fixtures/pki/p256
id=email:release-a@modelseal.test

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/textfile"
prom=$work/textfile/modelseal.prom
cp -r fixtures/models/demo "$work/model"
install -m 600 "$pki/leaf.key" "$work/signer.key"
size=$(find "$work/model" -type f -printf '%s\n' | awk '{s += $1} END {print s}')
not_after=$(date -d "$(openssl x509 -in "$pki/leaf.pem" -noout -enddate | cut -d= -f2)" +%s)
metric() { # NAME LABELS -> the sample's value
  grep -F "$1{$2} " "$prom" | awk '{print $2}'
}
expect_metric() { # NAME LABELS VALUE DESC
  local got
  got=$(metric "$1" "$2")
  if [ "$got" = "$3" ]; then ok "$4 ($1{$2} $3)"; else bad "$4: $1{$2} is '$got', expected $3"; fi
}

echo "--- decisions"
expect 0 "sign" -- "$ms" sign "$work/model" --key "$work/signer.key" --cert "$pki/leaf.pem" \
  --chain "$pki/chain.pem" --signature "$work/model.sig" -q --metrics-file "$prom"
verify() { "$ms" verify "$1" --signature "$work/model.sig" --trust-root "$pki/root.pem" --identity "$id" -q --metrics-file "$prom"; }
expect 0 "verify" -- verify "$work/model"
inode1=$(stat -c %i "$prom")
expect 0 "verify again" -- verify "$work/model"
inode2=$(stat -c %i "$prom")
cp -r "$work/model" "$work/tampered"
printf 'x' >> "$work/tampered/config.json"
expect 1 "verify a tampered copy" -- verify "$work/tampered"
expect 2 "verify without a bundle" -- "$ms" verify "$work/model" --signature "$work/none.sig" \
  --trust-root "$pki/root.pem" --identity "$id" -q --metrics-file "$prom"
gate() { "$ms" gate "$1" --signature "$work/model.sig" --trust-root "$pki/root.pem" --identity "$id" -q --metrics-file "$prom" -- true; }
expect 0 "gate" -- gate "$work/model"
expect 1 "gate a tampered copy" -- gate "$work/tampered"

expect 0 "promtool check metrics" -- bash -c "promtool check metrics < '$prom'"
expect_no_out '.' "promtool has no complaint"
expect_metric modelseal_decisions_total 'command="sign",outcome="success",check="none"' 1 "sign counted"
expect_metric modelseal_decisions_total 'command="verify",outcome="success",check="none"' 2 "verify successes accumulate"
expect_metric modelseal_decisions_total 'command="verify",outcome="rejected",check="digest_mismatch"' 1 "a rejection, by failing check"
expect_metric modelseal_decisions_total 'command="verify",outcome="error",check="unreadable_input"' 1 "an error, by kind"
expect_metric modelseal_decisions_total 'command="gate",outcome="success",check="none"' 1 "gate success"
expect_metric modelseal_decisions_total 'command="gate",outcome="rejected",check="digest_mismatch"' 1 "gate rejection"
expect_metric modelseal_hashed_bytes_total 'command="sign"' "$size" "bytes hashed by the signer"
expect_metric modelseal_hashed_bytes_total 'command="verify"' "$((2 * size))" "bytes hashed by the verifications"
expect_metric modelseal_hashed_bytes_total 'command="gate"' "$size" "bytes hashed by the gate"
for c in sign verify gate; do
  expect_metric modelseal_signer_certificate_not_after_timestamp_seconds "command=\"$c\"" "$not_after" "$c: the signer's notAfter"
done
expect_metric modelseal_last_decision_success 'command="gate"' 0 "the gate's last decision failed"
left=$(metric modelseal_signer_certificate_expiry_seconds 'command="gate"')
last=$(metric modelseal_last_decision_timestamp_seconds 'command="gate"')
expect 0 "expiry seconds = notAfter - decision time" -- \
  python3 -c "import sys; l, n, t = map(float, sys.argv[1:]); sys.exit(abs(l - (n - t)) > 2)" "$left" "$not_after" "$last"
ok_time=$(metric modelseal_last_success_timestamp_seconds 'command="gate"')
expect 0 "the last success time stays the success's" -- \
  python3 -c "import sys; a, b = map(float, sys.argv[1:]); sys.exit(not a < b)" "$ok_time" "$last"

cat > "$work/policy.json" <<JSON
{"version": "1",
 "trustStores": {"release": {"certificates": ["$pki/root.pem"]}},
 "policies": [{"name": "all", "scopes": ["*"], "level": "strict", "trustStores": ["release"],
   "trustedIdentities": ["$id"], "revocation": {"crls": ["$PWD/fixtures/pki/bad/revoked.crl.pem"]}}]}
JSON
expect 0 "verify --policy" -- "$ms" verify "$work/model" --policy "$work/policy.json" \
  --signature "$work/model.sig" -q --metrics-file "$work/policy.prom"
expect 0 "gate --policy" -- "$ms" gate "$work/model" --policy "$work/policy.json" \
  --signature "$work/model.sig" -q --metrics-file "$work/policy.prom" -- true
for c in verify gate; do
  prom=$work/policy.prom expect_metric modelseal_hashed_bytes_total "command=\"$c\"" "$size" "$c --policy: bytes hashed"
  prom=$work/policy.prom expect_metric modelseal_signer_certificate_not_after_timestamp_seconds \
    "command=\"$c\"" "$not_after" "$c --policy: the accepted signer's notAfter"
done

echo "--- sign --update: only what was hashed counts"
cp -r "$work/model" "$work/umodel"
signu() { "$ms" sign "$work/umodel" --key "$work/signer.key" --signature "$work/cached.sig" \
  --update --cache "$work/cached.cache" -q --metrics-file "$work/sign.prom"; }
expect 0 "sign --update (cold cache)" -- signu
prom=$work/sign.prom expect_metric modelseal_hashed_bytes_total 'command="sign"' "$size" "every byte hashed"
expect 0 "sign --update (warm cache)" -- signu
prom=$work/sign.prom expect_metric modelseal_hashed_bytes_total 'command="sign"' "$size" "nothing more hashed from a warm cache"
printf 'y' >> "$work/umodel/config.json"
expect 0 "sign --update after one file changed" -- signu
readme=$(stat -c %s "$work/umodel/config.json")
prom=$work/sign.prom expect_metric modelseal_hashed_bytes_total 'command="sign"' "$((size + readme))" "only the changed file hashed"
prom=$work/sign.prom expect_metric modelseal_decisions_total 'command="sign",outcome="success",check="none"' 3 "three signatures counted"
expect 0 "promtool check metrics (sign)" -- bash -c "promtool check metrics < '$work/sign.prom'"
expect_no_out '.' "promtool has no complaint"

echo "--- the file"
expect 0 "each run replaces the file (new inode)" -- test "$inode1" != "$inode2"
expect 0 "no temporary file left beside it" -- ls -A "$work/textfile"
expect_out '^modelseal.prom$' "modelseal.prom"
expect_out '^modelseal.prom.lock$' "and its lock file (not *.prom: the collector skips it)"
expect_no_out 'tmp' "nothing else"
expect 0 "eight concurrent runs on one file" -- bash -c '
  for i in 1 2 3 4 5 6 7 8; do
    "$0" verify "$1" --signature "$2" --trust-root "$3" --identity "$4" -q --metrics-file "$5" &
  done
  wait' "$ms" "$work/model" "$work/model.sig" "$pki/root.pem" "$id" "$work/concurrent.prom"
expect_out '^$' "all verified quietly"
prom=$work/concurrent.prom expect_metric modelseal_decisions_total 'command="verify",outcome="success",check="none"' 8 "every one counted"
printf 'something else\n' > "$work/foreign.prom"
expect 0 "a foreign file is taken over" -- "$ms" verify "$work/model" --signature "$work/model.sig" \
  --trust-root "$pki/root.pem" --identity "$id" -q --metrics-file "$work/foreign.prom"
expect 0 "and holds our metrics only" -- cat "$work/foreign.prom"
expect_no_out 'something else' "the foreign line is gone"
expect_out '^modelseal_decisions_total\{command="verify",outcome="success",check="none"\} 1$' "counting starts at 1"
expect 0 "an unwritable metrics path does not change a success" -- "$ms" verify "$work/model" \
  --signature "$work/model.sig" --trust-root "$pki/root.pem" --identity "$id" -q \
  --metrics-file "$work/no/such/dir/m.prom"
expect_out 'warning: metrics not written' "it is reported"
expect 1 "nor a rejection" -- "$ms" verify "$work/tampered" --signature "$work/model.sig" \
  --trust-root "$pki/root.pem" --identity "$id" -q --metrics-file "$work/no/such/dir/m.prom"

echo "--- alert rules"
expect 0 "promtool check rules" -- promtool check rules docs/prometheus/modelseal-alerts.yml
expect_out 'SUCCESS: 4 rules found' "four rules"
expect 0 "promtool test rules" -- bash -c "cd docs/prometheus && promtool test rules modelseal-alerts.test.yml"
expect_out 'SUCCESS' "the rules fire as documented"

finish metrics
