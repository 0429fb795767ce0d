#!/usr/bin/env bash
# Packaging suite: the static binary, the signed release and the container image.
#
# Builds the static binary ONCE (profile ci-static, see Cargo.toml; about the
# release build's code without LTO) and uses it for every check:
#   1. static: `file`, `ldd`, `readelf` say static; it signs and verifies the
#      demo fixture in an empty environment (env -i), and rejects a tampered copy;
#   2. release: packaging/sign-release.sh with the TEST key (fixtures/pki/p256),
#      then the verification commands of docs/deploy.md (openssl + sha256sum,
#      and modelseal with the pinned identity); a tampered release fails both;
#   3. image: packaging/build-image.sh, then in podman (read-only root, no
#      capabilities, no network): `verify` and `gate -- /serve` on the mounted
#      fixture model, and the same on a tampered copy (exit 1, server never runs).
# Needs podman + runc (.ci/deps/packaging.sh). Podman runs as root here with
# runc and nofile/nproc ulimits <= 1024, set in a containers.conf of our own.
set -euo pipefail
cd "$(dirname "$0")/../.."
source .ci/lib/check.sh

for t in podman runc readelf file ldd openssl sha256sum gcc python3; do
  require "$t" "run .ci/deps/packaging.sh"
done
venv=${MODELSEAL_DEPLOY_VENV:-$PWD/.venv-deploy}
require "$venv/bin/python" "run .ci/deps/deploy-tools.sh (PyYAML, for deploy/kubernetes)"

work=$(mktemp -d)
tag=localhost/modelseal:ci-$$
server_tag=localhost/modelseal-serve:ci-$$
cleanup() {
  podman rmi -f "$server_tag" "$tag" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

cat > "$work/containers.conf" <<'CONF'
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
export CONTAINERS_CONF=$work/containers.conf

pki=$PWD/fixtures/pki/p256
identity=email:release-a@modelseal.test
install -m 600 "$pki/leaf.key" "$work/signer.key"

echo "--- static binary (built once, profile ${MODELSEAL_PROFILE:-ci-static})"
start=$SECONDS
MODELSEAL_PROFILE=${MODELSEAL_PROFILE:-ci-static} packaging/build-static.sh "$work/dist"
echo "    build: $((SECONDS - start)) s"
ms=$work/dist/modelseal

expect 0 "file(1) runs" -- file "$ms"
expect_out 'ELF 64-bit.*x86-64.*(statically linked|static-pie linked)' "file(1) says static"
# ldd exits 1 on a plain static binary and 0 on a static-pie one: its words count.
expect 0 "ldd runs" -- bash -c "ldd '$ms' 2>&1 || true"
expect_out 'not a dynamic executable|statically linked' "ldd says not dynamic"
expect_no_out '=>' "ldd lists no library"
expect 0 "readelf -l" -- readelf -lW "$ms"
expect_no_out 'INTERP' "no program interpreter"
expect 0 "readelf -d" -- readelf -dW "$ms"
expect_no_out '\(NEEDED\)' "no shared library needed"
expect 0 "SHA256SUMS matches the binary" -- bash -c "cd '$work/dist' && sha256sum -c SHA256SUMS"
expect_out '^modelseal: OK$' "SHA256SUMS lists modelseal"

cp -r fixtures/models/demo "$work/model"
expect 0 "static sign in an empty environment" -- env -i "$ms" sign "$work/model" \
  --key "$work/signer.key" --cert "$pki/leaf.pem" --chain "$pki/chain.pem" \
  --signature "$work/model.sig" --quiet
expect 0 "static verify in an empty environment" -- env -i "$ms" verify "$work/model" \
  --signature "$work/model.sig" --trust-root "$pki/root.pem" --identity "$identity"
expect_out '^verified' "verify says verified"

cp -r "$work/model" "$work/tampered"
python3 - "$work/tampered/model.safetensors" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[len(b) // 2] ^= 1
open(p, "wb").write(bytes(b))
PY
expect 1 "static verify rejects a tampered model" -- env -i "$ms" verify "$work/tampered" \
  --signature "$work/model.sig" --trust-root "$pki/root.pem" --identity "$identity"
expect_out 'digest mismatch.*model\.safetensors' "the reason names the changed file"

echo "--- signed release (TEST key)"
expect 0 "sign-release.sh" -- packaging/sign-release.sh "$work/dist" \
  --key "$work/signer.key" --cert "$pki/leaf.pem" --chain "$pki/chain.pem"
expect 0 "release files" -- ls "$work/dist"
expect_out '^modelseal\.sig$' "modelseal.sig written"
expect_out '^SHA256SUMS\.sig$' "SHA256SUMS.sig written"
# The documented checks (docs/deploy.md), run from the download directory.
openssl x509 -in "$pki/leaf.pem" -pubkey -noout > "$work/release-pub.pem"
verify_openssl() {
  cd "$1" && openssl dgst -sha256 -verify "$work/release-pub.pem" -signature SHA256SUMS.sig SHA256SUMS &&
    sha256sum -c SHA256SUMS
}
# "a modelseal you already trust": a copy made before the release was signed.
cp "$ms" "$work/trusted-modelseal"
verify_modelseal() {
  "$work/trusted-modelseal" verify "$1" --signature "$1/modelseal.sig" \
    --trust-root "$pki/root.pem" --identity "$identity"
}
expect 0 "bootstrap check: openssl dgst -verify + sha256sum -c" -- verify_openssl "$work/dist"
expect_out 'Verified OK' "openssl verified SHA256SUMS.sig"
expect 0 "modelseal verify of the release, identity pinned" -- verify_modelseal "$work/dist"
expect 1 "release signed by a trusted CA but another identity is refused" -- \
  "$work/trusted-modelseal" verify "$work/dist" --signature "$work/dist/modelseal.sig" \
  --trust-root "$pki/root.pem" --identity email:release-b@modelseal.test

cp -r "$work/dist" "$work/dist-tampered"
printf 'x' >> "$work/dist-tampered/modelseal"
expect 1 "bootstrap check fails on a tampered binary" -- verify_openssl "$work/dist-tampered"
expect_out 'modelseal: FAILED' "sha256sum names the binary"
expect 1 "modelseal verify fails on a tampered binary" -- verify_modelseal "$work/dist-tampered"
expect_out 'digest mismatch.*modelseal' "the reason names the binary"

echo "--- container image"
expect 0 "build-image.sh with the binary built above" -- \
  env MODELSEAL_STATIC_DIR="$work/dist" packaging/build-image.sh "$tag"
expect 0 "image config" -- podman image inspect --format '{{.Config.User}} {{json .Config.Entrypoint}}' "$tag"
expect_out '^65532:65532 \["/modelseal"\]$' "numeric non-root user, entrypoint modelseal"
cid=$(podman create "$tag")
podman export "$cid" | tar -t | sort > "$work/image-files"
podman rm -f "$cid" >/dev/null
expect 0 "image contents" -- cat "$work/image-files"
expect_out '^modelseal$' "the image holds the binary"
expect_no_out '^(bin|etc|lib|lib64|usr|sbin)(/|$)' "and no OS: no shell, no libc"

run_image() {
  local image=$1 model=$2
  shift 2
  podman run --rm --read-only --cap-drop=all --security-opt=no-new-privileges --network=none \
    -v "$model:/model:ro" -v "$work/model.sig:/sig/model.sig:ro" -v "$pki:/trust:ro" \
    "$image" "$@"
}
expect 0 "container: verify the mounted model" -- run_image "$tag" "$work/model" \
  verify /model --signature /sig/model.sig --trust-root /trust/root.pem --identity "$identity"
expect_out '^verified' "container verify says verified"
expect 1 "container: verify rejects the tampered model" -- run_image "$tag" "$work/tampered" \
  verify /model --signature /sig/model.sig --trust-root /trust/root.pem --identity "$identity"
expect_out 'digest mismatch.*model\.safetensors' "container verify names the changed file"

# A server image the way users build theirs (docs/deploy.md): the modelseal
# image plus a server, the binary also where the Kubernetes example runs it.
mkdir -p "$work/serve-ctx"
gcc -static -O2 -o "$work/serve-ctx/serve" packaging/tests/serve.c
printf 'FROM %s\nCOPY --from=%s /modelseal /usr/local/bin/modelseal\nCOPY serve /serve\n' \
  "$tag" "$tag" > "$work/serve-ctx/Containerfile"
expect 0 "build a server image FROM the modelseal image" -- \
  podman build --quiet -t "$server_tag" "$work/serve-ctx"
want=$(python3 - "$work/model/model.safetensors" <<'PY'
import os, sys
h = 0xcbf29ce484222325
data = open(sys.argv[1], "rb").read()
for b in data:
    h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
print(f"serve: model.safetensors {len(data)} bytes fnv1a64={h:016x} read-only")
PY
)
expect 0 "container: gate starts the server on the verified model" -- run_image "$server_tag" \
  "$work/model" gate /model --signature /sig/model.sig --trust-root /trust/root.pem \
  --identity "$identity" -q -- /serve model.safetensors config.json
expect_out "^${want}\$" "the server read exactly the signed bytes, and could not write them"
expect_out '^serve: config\.json [0-9]+ bytes' "the server read config.json from MODELSEAL_MODEL_DIR"
expect 1 "container: gate refuses the tampered model" -- run_image "$server_tag" \
  "$work/tampered" gate /model --signature /sig/model.sig --trust-root /trust/root.pem \
  --identity "$identity" -q -- /serve model.safetensors
expect_out 'digest mismatch.*model\.safetensors' "the gate names the changed file"
expect_no_out '^serve:' "the server never started"

echo "--- deploy/kubernetes: the Deployments' containers as written, in podman"
# Volumes as the kubelet would mount them: the model store, the ConfigMaps
# (policy with the TEST identity, the TEST root and CRL), the audit volume
# with a writer key owned by the pod's user.
k8s=$work/k8s
mkdir -p "$k8s/models" "$k8s/policy" "$k8s/trust" "$k8s/audit"
cp -r fixtures/models/demo "$k8s/models/bert"
cp "$work/model.sig" "$k8s/models/bert.sig"
configmap_file() {
  "$venv/bin/python" -c 'import sys, yaml; open(sys.argv[3], "w").write(yaml.safe_load(open(sys.argv[1]))["data"][sys.argv[2]])' "$@"
}
configmap_file deploy/kubernetes/policy-configmap.yaml policy.json "$k8s/policy/policy.json"
sed -i "s/email:release@example.com/$identity/" "$k8s/policy/policy.json"
cp "$pki/root.pem" "$k8s/trust/release-root.pem"
cp fixtures/pki/bad/revoked.crl.pem "$k8s/trust/release-ca.crl.pem"
"$ms" audit keygen --out "$k8s/audit-keys" >/dev/null
cp "$k8s/audit-keys/writer.key" "$k8s/audit/writer.key"
chown -R 65532:65532 "$k8s/audit"
k8s_run() { # DEPLOYMENT CONTAINER IMAGE MODELS [--server ...]
  local file=$1 container=$2 image=$3 models=$4
  shift 4
  local argv
  mapfile -d '' argv < <("$venv/bin/python" .ci/lib/k8s_podman.py "deploy/kubernetes/$file" \
    "$container" --image "$image" --volume "models=$models" --volume "policy=$k8s/policy" \
    --volume "trust=$k8s/trust" --volume "audit=$k8s/audit" --field status.podIP=10.1.2.3 "$@")
  podman "${argv[@]}"
}
audit_log() {
  "$ms" audit verify --log "$k8s/audit/audit.log" --key "$k8s/audit-keys/verifier.key" &&
    cat "$k8s/audit/audit.log"
}
expect 0 "deployment-gate.yaml: model-server gates the model, then starts the server" -- \
  k8s_run deployment-gate.yaml model-server "$server_tag" "$k8s/models" \
  --server /serve model.safetensors config.json
expect_out "^${want}\$" "the server read exactly the signed bytes, through the policy"
expect 0 "the audit log verifies" -- audit_log
expect_out '"action":"model.gate".*"outcome":"success"' "and holds the gate's success record"
expect_out '"ip":"10.1.2.3"' "with the pod IP as source.ip"
cp -r "$k8s/models" "$k8s/models-tampered"
cp "$work/tampered/model.safetensors" "$k8s/models-tampered/bert/model.safetensors"
expect 1 "deployment-gate.yaml: a tampered model never reaches the server" -- \
  k8s_run deployment-gate.yaml model-server "$server_tag" "$k8s/models-tampered" \
  --server /serve model.safetensors
expect_out 'digest mismatch.*model\.safetensors' "the gate names the changed file"
expect_no_out '^serve:' "the server never started"
expect 0 "the audit log verifies" -- audit_log
expect_out '"action":"model.gate".*"outcome":"failure".*digest mismatch' "and records the refusal"
expect 0 "deployment-init.yaml: the initContainer verifies with the modelseal image" -- \
  k8s_run deployment-init.yaml verify-model "$tag" "$k8s/models"
expect 1 "deployment-init.yaml: the initContainer fails on the tampered model" -- \
  k8s_run deployment-init.yaml verify-model "$tag" "$k8s/models-tampered"
expect_out 'digest mismatch.*model\.safetensors' "naming the changed file"
expect 0 "the audit log verifies" -- audit_log
expect_out '"action":"model.verify".*"outcome":"failure"' "and records the initContainer's refusal"

finish packaging
