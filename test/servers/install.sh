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
  # its runtime libraries: the package's own lib* Depends, whatever this release names them
  # (bookworm's libssl3 is trixie's libssl3t64); not inetd, lsb-base or pure-ftpd-common
  if ! (cd "$tmp" && apt-get download pure-ftpd >/dev/null 2>&1); then
    apt-get update
    (cd "$tmp" && apt-get download pure-ftpd)
  fi
  local libs
  libs=$(apt-cache depends pure-ftpd | awk '/Depends: lib/ { print $2 }' | sort -u)
  # shellcheck disable=SC2086
  if ! dpkg -s $libs >/dev/null 2>&1; then
    apt-get install -y --no-install-recommends $libs
  fi
  # unpacked beside and moved into place only when it runs: a half-done install is never "installed"
  rm -rf "$PURE_FTPD_PREFIX.new"
  mkdir -p "$PURE_FTPD_PREFIX.new"
  dpkg -x "$tmp"/pure-ftpd_*.deb "$PURE_FTPD_PREFIX.new"
  rm -rf "$tmp"
  if ldd "$PURE_FTPD_PREFIX.new/usr/sbin/pure-ftpd" | grep -q 'not found'; then
    echo "test servers: the unpacked pure-ftpd lacks libraries:" >&2
    ldd "$PURE_FTPD_PREFIX.new/usr/sbin/pure-ftpd" | grep 'not found' >&2
    exit 1
  fi
  rm -rf "$PURE_FTPD_PREFIX"
  mv "$PURE_FTPD_PREFIX.new" "$PURE_FTPD_PREFIX"
}

missing=()
[ -x /usr/sbin/vsftpd ] || missing+=(vsftpd)
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
command -v ssh-keygen >/dev/null 2>&1 || missing+=(openssh-client)
command -v lftp >/dev/null 2>&1 || missing+=(lftp)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v flock >/dev/null 2>&1 || missing+=(util-linux)
command -v xmllint >/dev/null 2>&1 || missing+=(libxml2-utils)
# systemd-analyze verify checks the unit `cfx service install` writes (nothing here boots systemd)
command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
# NATS JetStream (transport-nats): Debian's nats-server (2.9.10 on bookworm)
command -v nats-server >/dev/null 2>&1 || missing+=(nats-server)
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
apt-get install -y --no-install-recommends vsftpd openssh-server openssh-client lftp openssl util-linux libxml2-utils systemd nats-server
install_pure_ftpd
