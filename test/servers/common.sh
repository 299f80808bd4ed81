# Sourced by start.sh and stop.sh: where an instance of the test servers lives, and how a recorded
# PID is recognised as one of its servers.
#
# A second instance (to try these scripts while the usual one serves tests) needs its own
# CFX_TEST_BASE and CFX_TEST_PORT_OFFSET (added to every port and passive range; 3000 is free of the
# defaults), and the same CFX_TEST_FTP_HOME as the first: both log in as the one local user cfxftp,
# whose home start.sh would otherwise move.

BASE=${CFX_TEST_BASE:-/tmp/cfx-test-servers}
PURE_FTPD=${CFX_PURE_FTPD_PREFIX:-/opt/cfx-test/pure-ftpd}/usr/sbin/pure-ftpd
PORT_OFFSET=${CFX_TEST_PORT_OFFSET:-0}
SERVERS="vsftpd vsftpd-ftps sshd pure-ftpd nats-server"

# Is $2 the PID of server $1 of this instance, still the process start.sh started (PIDs get
# reused)? vsftpd and sshd carry their config file (under $BASE) in their command line. pure-ftpd
# renames its process title to "pure-ftpd (SERVER)", so it is known by its binary and by the pid
# file it writes itself (-g). nats-server carries its config file (under $BASE) as `-c FILE`.
is_ours() {
  local name=$1 pid=$2 exe
  [[ $pid =~ ^[0-9]+$ ]] && [ -r "/proc/$pid/cmdline" ] || return 1
  case $name in
    vsftpd) tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- " $BASE/vsftpd.conf" ;;
    vsftpd-ftps) tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- " $BASE/vsftpd-ftps.conf" ;;
    sshd) tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "-f $BASE/sshd_config" ;;
    nats-server) tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "-c $BASE/nats-server.conf" ;;
    pure-ftpd)
      exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
      [ "${exe% (deleted)}" = "$(readlink -f "$PURE_FTPD")" ] && [ "$(cat "$BASE/pure-ftpd.own.pid" 2>/dev/null)" = "$pid" ]
      ;;
    *) return 1 ;;
  esac
}
