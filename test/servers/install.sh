#!/usr/bin/env bash
# Installs what test/servers/start.sh needs, only when something is missing (Debian/Ubuntu, as root).
# pure-ftpd (the second FTP server, the one with MLSD) conflicts with vsftpd in Debian (both
# provide ftp-server), so it is not installed as a package: its .deb is unpacked into a prefix of
# its own ($PURE_FTPD_PREFIX) and run from there; only its libraries are installed as packages.
set -euo pipefail
PURE_FTPD_PREFIX=${CFX_PURE_FTPD_PREFIX:-/opt/cfx-test/pure-ftpd}

install_pure_ftpd() {
  [ -x "$PURE_FTPD_PREFIX/usr/sbin/pure-ftpd" ] && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "test servers: pure-ftpd is missing; run this script as root" >&2
    exit 1
  fi
  echo "test servers: unpacking pure-ftpd into $PURE_FTPD_PREFIX"
  export DEBIAN_FRONTEND=noninteractive
  local tmp
  tmp=$(mktemp -d)
  # its runtime libraries (the package's own Depends minus the inetd/lsb/pure-ftpd-common parts)
  if ! (cd "$tmp" && apt-get download pure-ftpd >/dev/null 2>&1) || \
     ! dpkg -s libsodium23 libcap2 libpam0g libssl3 libcrypt1 >/dev/null 2>&1; then
    apt-get update
    apt-get install -y --no-install-recommends libsodium23 libcap2 libpam0g libssl3 libcrypt1
    (cd "$tmp" && apt-get download pure-ftpd)
  fi
  mkdir -p "$PURE_FTPD_PREFIX"
  dpkg -x "$tmp"/pure-ftpd_*.deb "$PURE_FTPD_PREFIX"
  rm -rf "$tmp"
  "$PURE_FTPD_PREFIX/usr/sbin/pure-ftpd" --help >/dev/null 2>&1 || { echo "test servers: the unpacked pure-ftpd does not run" >&2; exit 1; }
}

missing=()
[ -x /usr/sbin/vsftpd ] || missing+=(vsftpd)
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
command -v ssh-keygen >/dev/null 2>&1 || missing+=(openssh-client)
command -v lftp >/dev/null 2>&1 || missing+=(lftp)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v flock >/dev/null 2>&1 || missing+=(util-linux)
command -v xmllint >/dev/null 2>&1 || missing+=(libxml2-utils)
if [ ${#missing[@]} -eq 0 ]; then
  install_pure_ftpd
  echo "test servers: everything installed"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "test servers: missing ${missing[*]}; run this script as root" >&2
  exit 1
fi
echo "test servers: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends vsftpd openssh-server openssh-client lftp openssl util-linux libxml2-utils
install_pure_ftpd
