#!/usr/bin/env bash
# Installs what test/servers/start.sh needs, only when something is missing (Debian/Ubuntu, as root).
set -euo pipefail
missing=()
[ -x /usr/sbin/vsftpd ] || missing+=(vsftpd)
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
command -v ssh-keygen >/dev/null 2>&1 || missing+=(openssh-client)
command -v lftp >/dev/null 2>&1 || missing+=(lftp)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v flock >/dev/null 2>&1 || missing+=(util-linux)
command -v xmllint >/dev/null 2>&1 || missing+=(libxml2-utils)
if [ ${#missing[@]} -eq 0 ]; then
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
