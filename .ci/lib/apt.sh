# Shared helper for the Debian-package installers in .ci/deps (sourced).
#
#   apt_install_missing NAME PACKAGE...
#
# Installs the PACKAGEs that dpkg does not list as installed (one apt-get
# update, then one install, without recommends; sudo when not root), or says
# that all are there. NAME prefixes the messages. Idempotent.

apt_install_missing() {
  local name=$1
  shift
  local missing=() p
  for p in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$p")
    fi
  done
  if [ "${#missing[@]}" -eq 0 ]; then
    echo "$name: already installed: $*"
    return 0
  fi
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
  echo "$name: installing ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  # Maintainer scripts may try to start a system service (rsyslog,
  # prometheus): harmless, the tests start their own or use only the tools.
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
}
