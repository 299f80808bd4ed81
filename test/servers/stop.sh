#!/usr/bin/env bash
# Stops the servers start.sh started, by the PIDs it recorded (never by process name).
# Each server runs in its own process group (setsid). vsftpd and sshd put every connection in a
# session of its own, so those are found as the recorded PID's children and their groups ended too.
set -uo pipefail
BASE=${CFX_TEST_BASE:-/tmp/cfx-test-servers}
[ -d "$BASE" ] || exit 0
# the same lock as start.sh: a stop never interleaves with a start from a parallel test process
exec 9>"$BASE/.lock"
flock -w 120 9 || { echo "test servers: could not take $BASE/.lock within 120 s" >&2; exit 1; }
for name in vsftpd vsftpd-ftps sshd pure-ftpd; do
  pidfile=$BASE/$name.pid
  [ -f "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  # only if that PID is still the server we started (PIDs get reused)
  if [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "$BASE"; then
    children=$(awk -v p="$pid" '$4 == p { print $1 }' /proc/[0-9]*/stat 2>/dev/null)
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
    for c in $children; do kill -KILL -- "-$c" 2>/dev/null || kill -KILL "$c" 2>/dev/null; done
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL -- "-$pid" 2>/dev/null
    echo "stopped $name (pid $pid)"
  fi
  rm -f "$pidfile"
done
rm -f "$BASE/servers.env"
