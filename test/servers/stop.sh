#!/usr/bin/env bash
# Stops the servers start.sh started, by the PIDs it recorded (never by process name).
# Each server runs in its own process group (setsid), so its per-connection children go too.
set -uo pipefail
BASE=${CFX_TEST_BASE:-/tmp/cfx-test-servers}
for name in vsftpd vsftpd-ftps sshd; do
  pidfile=$BASE/$name.pid
  [ -f "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  # only if that PID is still the server we started (PIDs get reused)
  if [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "$BASE"; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL -- "-$pid" 2>/dev/null
    echo "stopped $name (pid $pid)"
  fi
  rm -f "$pidfile"
done
rm -f "$BASE/servers.env"
