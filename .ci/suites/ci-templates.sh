#!/usr/bin/env bash
# CI templates suite: the GitHub Action (action.yml), the reusable workflow
# (.github/workflows/modelseal-sign-verify.yml, example caller in ci/github/)
# and the GitLab template (ci/gitlab/).
#   1. each file validates offline against its published schema
#      (check-jsonschema's vendored vendor.github-actions, vendor.github-workflows,
#      vendor.gitlab-ci), and a broken copy does not;
#   2. their shell steps run here (.ci/lib/run_ci_steps.py: the env each step
#      sets, bash as the CI runs it) against the fixtures with the TEST key:
#      install modelseal from a signed "release" (file:// URL, checked with
#      openssl against the release key), sign, verify with a pinned identity,
#      and the failures: tampered model, wrong identity, wrong release key;
#   3. their TSA and PKCS#11 inputs: the reusable workflow and the GitLab
#      template sign with a key in a SoftHSM2 token (URI + module input) and a
#      timestamp from a local TSA (`openssl ts` behind fixtures/tsa/serve.py),
#      then verify with the TSA root; an untrusted TSA root is a rejection.
# Tools: .venv-deploy (.ci/deps/deploy-tools.sh), openssl, curl, python3
# (.ci/deps/tsa.sh), softhsm2 (.ci/deps/softhsm.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
source .ci/lib/check.sh

venv=${MODELSEAL_DEPLOY_VENV:-$PWD/.venv-deploy}
require "$venv/bin/check-jsonschema" "run .ci/deps/deploy-tools.sh"
require "$venv/bin/python" "run .ci/deps/deploy-tools.sh"
for t in openssl curl sha256sum cargo; do require "$t" "install it"; done
require python3 "run .ci/deps/tsa.sh"
require softhsm2-util "run .ci/deps/softhsm.sh"
module=/usr/lib/softhsm/libsofthsm2.so
if [ ! -e "$module" ]; then
  echo "FAIL: $module is missing: run .ci/deps/softhsm.sh" >&2
  exit 1
fi
py=$venv/bin/python
runner=$PWD/.ci/lib/run_ci_steps.py
repo=$PWD

work=$(mktemp -d)
tsa_pid=""
trap '[ -z "$tsa_pid" ] || kill "$tsa_pid" 2>/dev/null; rm -rf "$work"' EXIT

echo "--- schemas"
expect 0 "action.yml against vendor.github-actions" -- \
  "$venv/bin/check-jsonschema" --builtin-schema vendor.github-actions action.yml
expect 0 "workflows against vendor.github-workflows" -- \
  "$venv/bin/check-jsonschema" --builtin-schema vendor.github-workflows \
  .github/workflows/modelseal-sign-verify.yml ci/github/example-caller.yml
expect 0 "GitLab template and example against vendor.gitlab-ci" -- \
  "$venv/bin/check-jsonschema" --builtin-schema vendor.gitlab-ci \
  ci/gitlab/modelseal.gitlab-ci.yml ci/gitlab/example.gitlab-ci.yml
sed 's/using: composite/using: compositee/' action.yml > "$work/broken-action.yml"
expect 1 "a broken action.yml is refused" -- \
  "$venv/bin/check-jsonschema" --builtin-schema vendor.github-actions "$work/broken-action.yml"
sed 's/^  script:$/  scripts:/' ci/gitlab/example.gitlab-ci.yml > "$work/broken.gitlab-ci.yml"
expect 1 "a broken GitLab template is refused" -- \
  "$venv/bin/check-jsonschema" --builtin-schema vendor.gitlab-ci "$work/broken.gitlab-ci.yml"

echo "--- a signed modelseal release to install from (TEST key)"
cargo build -q --locked -p modelseal
pki=$repo/fixtures/pki/p256
install -m 600 "$pki/leaf.key" "$work/release.key"
mkdir "$work/release"
cp target/debug/modelseal "$work/release/modelseal"
(cd "$work/release" && sha256sum modelseal > SHA256SUMS)
packaging/sign-release.sh "$work/release" --key "$work/release.key" --cert "$pki/leaf.pem" \
  --chain "$pki/chain.pem"
release_url=file://$work/release
release_pub=$(openssl x509 -in "$pki/leaf.pem" -pubkey -noout)
wrong_pub=$(openssl x509 -in "$pki/leaf-b.pem" -pubkey -noout)
key_pem=$(cat "$pki/leaf.key")

# A model repository checkout: the model and the release PKI files.
new_checkout() {
  mkdir -p "$1/release"
  cp -r fixtures/models/demo "$1/model"
  cp "$pki/leaf.pem" "$1/release/release.pem"
  cp "$pki/chain.pem" "$1/release/chain.pem"
  cp "$pki/root.pem" "$1/release/root.pem"
}
tamper() {
  printf 'tampered' >> "$1/model/config.json"
}
in_dir() {
  local dir=$1
  shift
  (cd "$dir" && "$@")
}

echo "--- GitHub Action"
new_checkout "$work/gh"
action() { in_dir "$work/gh" "$py" "$runner" action "$repo/action.yml" "$@"; }
expect 0 "action: sign with key-pem from a secret, installed from the signed release" -- action \
  --input command=sign --input model=model --input signature=model.sig --input "key-pem=$key_pem" \
  --input cert=release/release.pem --input chain=release/chain.pem \
  --input "release-url=$release_url" --input "release-public-key=$release_pub"
expect_out 'Verified OK' "the install step checked SHA256SUMS.sig with openssl"
expect_out '^outputs: \{"verdict": "signed"\}$' "verdict output: signed"
expect_out '^runner temp left: .*modelseal-bin/modelseal' "(the runner lists what RUNNER_TEMP holds)"
expect_no_out '^runner temp left: .*modelseal-key' "the key file was removed from RUNNER_TEMP"
expect 0 "the bundle was written" -- test -s "$work/gh/model.sig"
expect 0 "action: verify, identity pinned" -- action --input command=verify --input model=model \
  --input signature=model.sig --input trust-root=release/root.pem \
  --input "identity=email:release-a@modelseal.test" \
  --input "release-url=$release_url" --input "release-public-key=$release_pub"
expect_out '^outputs: \{"verdict": "verified"\}$' "verdict output: verified"
expect 0 "action: verify with metrics-file" -- action --input command=verify --input model=model \
  --input signature=model.sig --input trust-root=release/root.pem \
  --input "identity=email:release-a@modelseal.test" --input "metrics-file=$work/ci.prom" \
  --input "release-url=$release_url" --input "release-public-key=$release_pub"
expect 0 "the metrics file holds the decision" -- cat "$work/ci.prom"
expect_out '^modelseal_decisions_total\{command="verify",outcome="success",check="none"\} 1$' "one verify success"
expect 1 "action: verify refuses another identity" -- action --input command=verify \
  --input model=model --input signature=model.sig --input trust-root=release/root.pem \
  --input "identity=email:release-b@modelseal.test" \
  --input "release-url=$release_url" --input "release-public-key=$release_pub"
expect_out '^outputs: \{"verdict": "rejected"\}$' "verdict output: rejected"
expect 2 "action: sign without a key is an error" -- action --input command=sign --input model=model \
  --input "release-url=$release_url" --input "release-public-key=$release_pub"
expect_out '"verdict": "error"' "verdict output: error"
expect 1 "action: a release checked against the wrong key is not installed" -- action \
  --input command=verify --input model=model --input trust-root=release/root.pem \
  --input "release-url=$release_url" --input "release-public-key=$wrong_pub"
expect_out 'Verification failure' "openssl refused the release signature"
expect_no_out 'step: action: modelseal' "modelseal never ran"
expect_out '^outputs: \{"verdict": ""\}$' "no verdict"
tamper "$work/gh"
expect 1 "action: verify rejects a tampered model" -- action --input command=verify \
  --input model=model --input signature=model.sig --input trust-root=release/root.pem \
  --input "identity=email:release-a@modelseal.test" \
  --input "release-url=$release_url" --input "release-public-key=$release_pub"
expect_out 'digest mismatch.*config\.json' "the reason names the changed file"

echo "--- reusable workflow: sign job, then verify job on a fresh checkout"
wf_inputs=(--input model=model --input signature=model.sig --input cert=release/release.pem
  --input chain=release/chain.pem --input trust-root=release/root.pem
  --input "identity=email:release-a@modelseal.test" --input "release-url=$release_url"
  --input "release-public-key=$release_pub")
workflow() {
  local dir=$1
  shift
  in_dir "$dir" "$py" "$runner" workflow "$repo/.github/workflows/modelseal-sign-verify.yml" \
    --action "$repo/action.yml" --artifacts "$work/artifacts" "${wf_inputs[@]}" "$@"
}
new_checkout "$work/wf-sign"
expect 0 "workflow job sign (on release)" -- workflow "$work/wf-sign" --job sign \
  --input sign=true --secret "signing-key=$key_pem"
expect 0 "the bundle was uploaded as artifact model-signature" -- \
  test -s "$work/artifacts/model-signature/model.sig"
new_checkout "$work/wf-verify"
expect 0 "workflow job verify uses the uploaded bundle" -- workflow "$work/wf-verify" --job verify \
  --input sign=true --need sign=success
expect_out '^outputs: \{"verdict": "verified"\}$' "job output verdict: verified"
new_checkout "$work/wf-tampered"
tamper "$work/wf-tampered"
expect 1 "workflow job verify fails on a tampered model: deploy never starts" -- \
  workflow "$work/wf-tampered" --job verify --input sign=true --need sign=success
expect_out '^outputs: \{"verdict": "rejected"\}$' "job output verdict: rejected"
expect 0 "workflow job sign is skipped when not releasing" -- workflow "$work/wf-verify" --job sign
expect_out 'job sign skipped' "sign skipped"

echo "--- GitLab template"
new_checkout "$work/gl"
gitlab() {
  in_dir "$work/gl" "$py" "$runner" gitlab "$repo/ci/gitlab/example.gitlab-ci.yml" \
    --var "MODELSEAL_RELEASE_URL=$release_url" --var "MODELSEAL_RELEASE_PUBKEY=$release_pub" \
    --var MODELSEAL_IDENTITY=email:release-a@modelseal.test "$@"
}
# The include is resolved relative to the repository root: run from a copy
# that has it where the example says.
mkdir -p "$work/gl/ci/gitlab"
cp ci/gitlab/modelseal.gitlab-ci.yml "$work/gl/ci/gitlab/"
expect 0 "gitlab: modelseal-sign does not run without a tag" -- gitlab --job modelseal-sign \
  --var "MODELSEAL_SIGNING_KEY=$work/release.key"
expect_out 'not run: \$CI_COMMIT_TAG is empty' "rule: release tags only"
cp "$pki/leaf.key" "$work/file-variable.key"   # a File variable, as the runner writes it (0644 here)
expect 0 "gitlab: modelseal-sign on a tag (key from a File variable, no TSA)" -- gitlab \
  --job modelseal-sign --var CI_COMMIT_TAG=v1.0.0 --var "MODELSEAL_SIGNING_KEY=$work/file-variable.key" \
  --var MODELSEAL_TSA_URL=
expect_out '"artifacts": \["model.sig"\]' "the bundle is the job's artifact"
expect 0 "the bundle was written" -- test -s "$work/gl/model.sig"
expect 0 "gitlab: modelseal-verify" -- gitlab --job modelseal-verify
expect_out 'verified' "verify says verified"
tamper "$work/gl"
expect 1 "gitlab: modelseal-verify fails on a tampered model" -- gitlab --job modelseal-verify
expect_out 'digest mismatch.*config\.json' "the reason names the changed file"
expect 2 "gitlab: without the release variables nothing is installed" -- \
  in_dir "$work/gl" "$py" "$runner" gitlab "$repo/ci/gitlab/example.gitlab-ci.yml" --job modelseal-verify
expect_out 'set MODELSEAL_RELEASE_URL' "the error says what to set"

echo "--- TSA and PKCS#11 inputs: a SoftHSM2 token and a local TSA"
python3 fixtures/tsa/serve.py > "$work/tsa.out" &
tsa_pid=$!
for _ in $(seq 100); do grep -q '^PORT ' "$work/tsa.out" && break; sleep 0.1; done
tsa_url="http://127.0.0.1:$(sed -n 's/^PORT //p' "$work/tsa.out")/"
export SOFTHSM2_CONF=$work/softhsm2.conf
mkdir "$work/tokens"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' "$work/tokens" > "$SOFTHSM2_CONF"
printf '4821-ci-pin\n' > "$work/pin"
expect 0 "a token for the release key" -- softhsm2-util --init-token --free --label release \
  --pin 4821-ci-pin --so-pin 9999-so
# No module in the URI: the templates' module input supplies it.
key_uri="pkcs11:token=release;object=ci-release?pin-source=file:$work/pin"
expect 0 "keygen makes the key pair in the token" -- env MODELSEAL_PKCS11_MODULE="$module" \
  target/debug/modelseal keygen --algorithm ecdsa-p256 --out "$key_uri" --public-out "$work/token.pub.pem"
# Its certificate, issued by the test intermediate (a throwaway request whose
# key -force_pubkey replaces with the token's).
printf '%s\n' "basicConstraints = critical, CA:FALSE" "keyUsage = critical, digitalSignature" \
  "extendedKeyUsage = critical, codeSigning" "subjectAltName = email:token@modelseal.test" \
  "subjectKeyIdentifier = hash" "authorityKeyIdentifier = keyid" > "$work/token.ext"
expect 0 "a code-signing certificate for the token's key" -- bash -c '
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1/throwaway.key" \
    -subj "/O=modelseal test PKI - NOT FOR PRODUCTION/CN=token signer" -out "$1/token.csr" &&
  openssl x509 -req -in "$1/token.csr" -force_pubkey "$1/token.pub.pem" -CA "$2/intermediate.pem" \
    -CAkey "$2/intermediate.key" -set_serial 0x7002 -days 30 -sha256 -extfile "$1/token.ext" \
    -out "$1/token.pem"' _ "$work" "$pki"
hsm_checkout() {
  new_checkout "$1"
  cp "$work/token.pem" "$1/release/token.pem"
  cp fixtures/tsa/root.pem "$1/release/tsa-root.pem"
  cp fixtures/tsa/other-root.pem "$1/release/other-tsa-root.pem"
}
hsm_workflow() {
  local dir=$1
  shift
  in_dir "$dir" "$py" "$runner" workflow "$repo/.github/workflows/modelseal-sign-verify.yml" \
    --action "$repo/action.yml" --artifacts "$work/artifacts-hsm" --input model=model \
    --input signature=model.sig --input cert=release/token.pem --input chain=release/chain.pem \
    --input trust-root=release/root.pem --input identity=email:token@modelseal.test \
    --input "release-url=$release_url" --input "release-public-key=$release_pub" "$@"
}
hsm_checkout "$work/wf-hsm"
expect 0 "workflow job sign: key in the token (key + pkcs11-module), timestamp (tsa-url)" -- \
  hsm_workflow "$work/wf-hsm" --job sign --input sign=true --input "key=$key_uri" \
  --input "pkcs11-module=$module" --input "tsa-url=$tsa_url"
expect 0 "the uploaded bundle carries the TSA's token" -- \
  grep -q rfc3161Timestamps "$work/artifacts-hsm/model-signature/model.sig"
hsm_checkout "$work/wf-hsm-verify"
expect 0 "workflow job verify with tsa-root" -- hsm_workflow "$work/wf-hsm-verify" --job verify \
  --input sign=true --need sign=success --input tsa-root=release/tsa-root.pem
expect_out 'timestamp: RFC 3161 timestamp 1: genTime' "the timestamp verified against the TSA root"
expect_out '^outputs: \{"verdict": "verified"\}$' "job output verdict: verified"
expect 1 "workflow job verify: a TSA root that did not issue it is a rejection" -- \
  hsm_workflow "$work/wf-hsm-verify" --job verify --input sign=true --need sign=success \
  --input tsa-root=release/other-tsa-root.pem
expect_out 'does not chain to a trusted TSA root' "the reason says so"
expect_out '^outputs: \{"verdict": "rejected"\}$' "job output verdict: rejected"

hsm_checkout "$work/gl-hsm"
mkdir -p "$work/gl-hsm/ci/gitlab"
cp ci/gitlab/modelseal.gitlab-ci.yml "$work/gl-hsm/ci/gitlab/"
gitlab_hsm() {
  in_dir "$work/gl-hsm" "$py" "$runner" gitlab "$repo/ci/gitlab/example.gitlab-ci.yml" \
    --var "MODELSEAL_RELEASE_URL=$release_url" --var "MODELSEAL_RELEASE_PUBKEY=$release_pub" "$@"
}
expect 0 "gitlab: modelseal-sign with MODELSEAL_KEY_URI, MODELSEAL_PKCS11_MODULE, MODELSEAL_TSA_URL" -- \
  gitlab_hsm --job modelseal-sign --var CI_COMMIT_TAG=v1.0.0 --var "MODELSEAL_KEY_URI=$key_uri" \
  --var "MODELSEAL_PKCS11_MODULE=$module" --var "MODELSEAL_TSA_URL=$tsa_url" \
  --var MODELSEAL_CERT=release/token.pem
expect 0 "the bundle carries the TSA's token" -- grep -q rfc3161Timestamps "$work/gl-hsm/model.sig"
expect 0 "gitlab: modelseal-verify with MODELSEAL_TSA_ROOT" -- gitlab_hsm --job modelseal-verify \
  --var MODELSEAL_IDENTITY=email:token@modelseal.test --var MODELSEAL_TSA_ROOT=release/tsa-root.pem
expect_out 'timestamp: RFC 3161 timestamp 1: genTime' "the timestamp verified against the TSA root"
expect 1 "gitlab: an untrusted TSA root is a rejection" -- gitlab_hsm --job modelseal-verify \
  --var MODELSEAL_IDENTITY=email:token@modelseal.test --var MODELSEAL_TSA_ROOT=release/other-tsa-root.pem
expect_out 'does not chain to a trusted TSA root' "the reason says so"

finish ci-templates
