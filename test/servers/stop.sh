#!/usr/bin/env bash
# Stops the servers start.sh started, by the PIDs it recorded (never by process name), each only
# while it is still that server (is_ours in common.sh: PIDs get reused; pure-ftpd renames its
# process title, so it is known by its binary and its own pid file, not its command line).
# Each server runs in its own process group (setsid). vsftpd and sshd put every connection in a
# session of its own, so those are found as the recorded PID's children and their groups ended too.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=common.sh
. "$HERE/common.sh"
[ -d "$BASE" ] || exit 0
# the same lock as start.sh: a stop never interleaves with a start from a parallel test process
exec 9>"$BASE/.lock"
flock -w 120 9 || { echo "test servers: could not take $BASE/.lock within 120 s" >&2; exit 1; }
status=0
for name in $SERVERS; do
  pidfile=$BASE/$name.pid
  [ -f "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  if is_ours "$name" "$pid"; then
    children=$(awk -v p="$pid" '$4 == p { print $1 }' /proc/[0-9]*/stat 2>/dev/null)
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
    for c in $children; do kill -KILL -- "-$c" 2>/dev/null || kill -KILL "$c" 2>/dev/null; done
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null; fi
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "test servers: $name (pid $pid) is still running after SIGKILL" >&2
      status=1
      continue # its pid file stays, for the next stop
    fi
    echo "stopped $name (pid $pid)"
  else
    echo "test servers: $name: pid $pid of $pidfile is gone or no longer that server; nothing to stop"
  fi
  rm -f "$pidfile"
done
rm -f "$BASE/pure-ftpd.own.pid" "$BASE/servers.env"
exit $status
