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
#      and the failures: tampered model, wrong identity, wrong release key.
# Tools: .venv-deploy (.ci/deps/deploy-tools.sh), openssl, curl.
set -euo pipefail
cd "$(dirname "$0")/../.."
source .ci/lib/check.sh

venv=${MODELSEAL_DEPLOY_VENV:-$PWD/.venv-deploy}
require "$venv/bin/check-jsonschema" "run .ci/deps/deploy-tools.sh"
require "$venv/bin/python" "run .ci/deps/deploy-tools.sh"
for t in openssl curl sha256sum cargo; do require "$t" "install it"; done
py=$venv/bin/python
runner=$PWD/.ci/lib/run_ci_steps.py
repo=$PWD

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

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

finish ci-templates
