# Shared helpers for the shell suites in .ci/suites (sourced, not run).
#
#   require TOOL HINT...           fail the suite now when TOOL is missing
#   expect CODE DESC -- CMD...     run CMD (stdout+stderr into $out), check its exit code
#   expect_out REGEX DESC          check that the last output matches an extended regex
#   expect_no_out REGEX DESC       ... that it does not
#   finish NAME                    print "NAME: N passed, N failed", exit 1 on failures
#
# A failure is counted and reported with the command's output; the suite goes
# on so one run shows every broken check.

pass=0
fail=0
out=""

require() {
  local tool=$1
  shift
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "FAIL: '$tool' is required by this suite but missing: $*" >&2
    exit 1
  fi
}

ok() {
  pass=$((pass + 1))
  echo "ok   $*"
}

bad() {
  fail=$((fail + 1))
  echo "FAIL $*"
}

expect() {
  local want=$1 desc=$2
  shift 3
  local code=0
  out=$("$@" 2>&1) || code=$?
  if [ "$code" -eq "$want" ]; then
    ok "$desc (exit $code)"
  else
    bad "$desc: exit $code, expected $want"
    printf '%s\n' "$out" | sed 's/^/     | /' | tail -n 30
  fi
}

expect_out() {
  if printf '%s\n' "$out" | grep -Eq -- "$1"; then
    ok "$2"
  else
    bad "$2: output does not match /$1/"
    printf '%s\n' "$out" | sed 's/^/     | /' | tail -n 30
  fi
}

expect_no_out() {
  if printf '%s\n' "$out" | grep -Eq -- "$1"; then
    bad "$2: output matches /$1/"
    printf '%s\n' "$out" | sed 's/^/     | /' | tail -n 30
  else
    ok "$2"
  fi
}

finish() {
  echo "$1: $pass passed, $fail failed"
  [ "$fail" -eq 0 ]
}
