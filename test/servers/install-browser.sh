#!/usr/bin/env bash
# Installs the browser the admin page test drives (Debian's chromium, run by playwright-core with
# executablePath /usr/bin/chromium; no browser download), only when it is missing (Debian/Ubuntu, as root).
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  echo "browser: chromium installed"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "browser: missing chromium; run this script as root" >&2
  exit 1
fi
echo "browser: installing chromium"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y chromium
