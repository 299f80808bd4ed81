#!/usr/bin/env bash
# Real servers on loopback for the whole-system tests (as root, no systemd needed):
#   vsftpd  127.0.0.1:2121  plain FTP, passive ports 20000-20999, at most 200 sessions
#           (CFX_TEST_FTP_MAX_CLIENTS: max_clients and max_per_ip of both vsftpd, default 200)
#   vsftpd  127.0.0.1:2990  explicit FTPS (AUTH TLS required), passive ports 21000-21999,
#                           server cert signed by a throwaway test CA
#   sshd    127.0.0.1:2222  key-only login, internal-sftp
#   pure-ftpd 127.0.0.1:2131 plain FTP with MLSD/MLST (vsftpd has neither), passive ports
#                           22000-22999, the same user and root as vsftpd; unpacked by install.sh
#                           into its own prefix (CFX_PURE_FTPD_PREFIX), since it conflicts with
#                           vsftpd as a Debian package
#   nats-server 127.0.0.1:4222 NATS with JetStream (file storage under $BASE/nats), user cfx /
#                           password cfx-nats-test; transport-nats tests use it
# One local user `cfxftp` (password `cfxftp`, plus a generated SSH key). FTP sessions are chrooted
# to the user's home (so `/ftpbox` is under it); SFTP is not chrooted, so SFTP tests put their
# files under CFX_TEST_SFTP_ROOT (the same directory: a file written over FTP is visible over SFTP).
#
# Ports and passive ranges as listed, plus CFX_TEST_PORT_OFFSET when set (default 0). The passive
# ranges must lie outside the kernel's ephemeral range (net.ipv4.ip_local_port_range, 32768-60999 by
# default): there any outgoing socket, or one in TIME_WAIT after a burst of uploads, can hold a port
# vsftpd picks, and after 10 ports in use it ends the session with `500 OOPS: vsf_sysutil_bind`.
# The bench instance (offset 3000) had 33000-35999 in that range; start.sh refuses an overlap.
# Idempotent: a server whose recorded PID is still that server (is_ours) and whose port answers is left alone.
# Serialised with flock, so parallel test processes can all call it.
# Writes $CFX_TEST_BASE/servers.env (KEY=value lines) and prints the same summary.
# The FTP root is /dev/shm/<base name>-home when /dev/shm exists; CFX_TEST_FTP_HOME overrides it.
# Stop with stop.sh (by recorded PIDs only). CFX_TEST_BASE and CFX_TEST_PORT_OFFSET run a second
# instance beside this one (see common.sh).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=common.sh
. "$HERE/common.sh"
FTP_USER=cfxftp
FTP_PASS=cfxftp
FTP_PORT=$((2121 + PORT_OFFSET))
FTPS_PORT=$((2990 + PORT_OFFSET))
SFTP_PORT=$((2222 + PORT_OFFSET))
PURE_FTP_PORT=$((2131 + PORT_OFFSET))
NATS_PORT=$((4222 + PORT_OFFSET))
NATS_USER=cfx
NATS_PASS=cfx-nats-test
PASV=$((20000 + PORT_OFFSET))
# vsftpd's max_clients and max_per_ip (every test connection comes from 127.0.0.1): the fleet bench
# (bench/src/fleet.ts) raises it for 1,000+ simulated terminals on its own instance of these servers
FTP_MAX_CLIENTS=${CFX_TEST_FTP_MAX_CLIENTS:-200}
[[ $FTP_MAX_CLIENTS =~ ^[1-9][0-9]*$ ]] || die "CFX_TEST_FTP_MAX_CLIENTS must be a positive number, got '$FTP_MAX_CLIENTS'"

die() { echo "test servers: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (creates a local user, binds ports, runs vsftpd/sshd)"
for b in /usr/sbin/vsftpd /usr/sbin/sshd "$PURE_FTPD" /usr/sbin/nats-server; do
  [ -x "$b" ] || die "$b is missing; run $HERE/install.sh"
done
# passive ports inside the ephemeral range collide with the machine's own outgoing sockets (above)
if read -r EPH_LO EPH_HI < /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null; then
  if (( PASV <= EPH_HI && PASV + 2999 >= EPH_LO )); then
    die "passive ports $PASV-$((PASV + 2999)) overlap the ephemeral range $EPH_LO-$EPH_HI (net.ipv4.ip_local_port_range): choose another CFX_TEST_PORT_OFFSET"
  fi
fi
for c in ssh-keygen openssl flock; do
  command -v "$c" >/dev/null 2>&1 || die "$c is missing; run $HERE/install.sh"
done

mkdir -p "$BASE"
chmod 755 "$BASE"
exec 9>"$BASE/.lock"
flock -w 120 9 || die "could not take $BASE/.lock within 120 s"

# The FTP root holds many small files in tests and benchmarks: tmpfs is ~80x faster to create
# files on than ext4, so use /dev/shm when the machine has one.
if [ -z "${CFX_TEST_FTP_HOME:-}" ]; then
  if [ -d /dev/shm ] && [ -w /dev/shm ]; then
    CFX_TEST_FTP_HOME=/dev/shm/$(basename "$BASE")-home
  else
    CFX_TEST_FTP_HOME=$BASE/home
  fi
fi
HOME_DIR=$CFX_TEST_FTP_HOME
mkdir -p "$BASE/log" "$BASE/ssh" "$BASE/tls" "$HOME_DIR"

# ---------- the local user (password login through PAM for vsftpd, key login for sshd) ----------
# Its shell must be listed in /etc/shells (pam_shells) and it must not be in /etc/ftpusers.
if ! id "$FTP_USER" >/dev/null 2>&1; then
  useradd -M -d "$HOME_DIR" -s /bin/bash "$FTP_USER"
elif [ "$(getent passwd "$FTP_USER" | cut -d: -f6)" != "$HOME_DIR" ]; then
  usermod -d "$HOME_DIR" "$FTP_USER"
fi
echo "$FTP_USER:$FTP_PASS" | chpasswd
if [ -f /etc/ftpusers ] && grep -qx "$FTP_USER" /etc/ftpusers; then
  sed -i "/^$FTP_USER\$/d" /etc/ftpusers
fi
chown "$FTP_USER:$FTP_USER" "$HOME_DIR"
chmod 755 "$HOME_DIR"
# vsftpd needs its secure_chroot_dir to exist (empty, root-owned, not writable)
mkdir -p /var/run/vsftpd/empty
# sshd refuses to start without its privilege-separation dir
mkdir -p /run/sshd

# ---------- keys and certificates (generated once, kept across restarts) ----------
[ -f "$BASE/ssh/host_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C cfx-test-host -f "$BASE/ssh/host_ed25519"
[ -f "$BASE/ssh/client_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C cfx-test-client -f "$BASE/ssh/client_ed25519"
# read by sshd with the user's privileges: must be readable by cfxftp
install -m 644 "$BASE/ssh/client_ed25519.pub" "$BASE/ssh/authorized_keys"
chmod 755 "$BASE/ssh"

TLS=$BASE/tls
if [ ! -f "$TLS/server.crt" ] || [ ! -f "$TLS/ca.crt" ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=cfx test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$TLS/ca.key" -out "$TLS/ca.crt" 2>"$BASE/log/openssl.out"
  openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$TLS/server.key" -out "$TLS/server.csr" 2>>"$BASE/log/openssl.out"
  printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
    "extendedKeyUsage=serverAuth" "subjectAltName=IP:127.0.0.1,DNS:localhost" > "$TLS/server.ext"
  openssl x509 -req -in "$TLS/server.csr" -CA "$TLS/ca.crt" -CAkey "$TLS/ca.key" -CAcreateserial \
    -days 3650 -sha256 -extfile "$TLS/server.ext" -out "$TLS/server.crt" 2>>"$BASE/log/openssl.out"
  chmod 600 "$TLS/ca.key" "$TLS/server.key"
fi

# ---------- configs (rewritten every time: cheap, and picks up changes to this script) ----------
vsftpd_conf() { # port pasv_min pasv_max
  cat <<EOF
listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port=$1
background=NO
anonymous_enable=NO
local_enable=YES
write_enable=YES
local_umask=022
# absolute remote paths like /ftpbox live under the user's home, not the machine's /
chroot_local_user=YES
allow_writeable_chroot=YES
pam_service_name=vsftpd
connect_from_port_20=NO
pasv_enable=YES
pasv_address=127.0.0.1
pasv_min_port=$2
pasv_max_port=$3
# containers: no seccomp filter, no network/pid namespaces
seccomp_sandbox=NO
isolate=NO
isolate_network=NO
dirmessage_enable=NO
xferlog_enable=NO
use_localtime=NO
secure_chroot_dir=/var/run/vsftpd/empty
max_clients=$FTP_MAX_CLIENTS
max_per_ip=$FTP_MAX_CLIENTS
delay_failed_login=0
EOF
}
vsftpd_conf $FTP_PORT $PASV $((PASV + 999)) > "$BASE/vsftpd.conf"
{
  vsftpd_conf $FTPS_PORT $((PASV + 1000)) $((PASV + 1999))
  cat <<EOF
ssl_enable=YES
rsa_cert_file=$TLS/server.crt
rsa_private_key_file=$TLS/server.key
force_local_logins_ssl=YES
force_local_data_ssl=YES
require_ssl_reuse=NO
ssl_tlsv1=YES
ssl_sslv2=NO
ssl_sslv3=NO
# vsftpd's built-in default (DES-CBC3-SHA) is refused by OpenSSL 3
ssl_ciphers=HIGH
EOF
} > "$BASE/vsftpd-ftps.conf"

cat > "$BASE/sshd_config" <<EOF
Port $SFTP_PORT
ListenAddress 127.0.0.1
HostKey $BASE/ssh/host_ed25519
PidFile none
AuthorizedKeysFile $BASE/ssh/authorized_keys
AllowUsers $FTP_USER
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
X11Forwarding no
AllowTcpForwarding no
Subsystem sftp internal-sftp
Match User $FTP_USER
  ForceCommand internal-sftp
EOF
/usr/sbin/sshd -t -f "$BASE/sshd_config" || die "sshd rejects $BASE/sshd_config"

# NATS: loopback only, one user, JetStream with file storage under $BASE/nats (kept across restarts,
# as a shop's server keeps its streams). No monitoring port: nothing here needs it.
mkdir -p "$BASE/nats"
cat > "$BASE/nats-server.conf" <<EOF
listen: 127.0.0.1:$NATS_PORT
server_name: cfx-test-nats
authorization {
  user: $NATS_USER
  password: $NATS_PASS
}
jetstream {
  store_dir: "$BASE/nats"
  max_memory_store: 64MB
  max_file_store: 2GB
}
EOF

# ---------- start what is not running ----------
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# the recorded PID of server $1, when it is still that server
running() { [ -f "$BASE/$1.pid" ] && is_ours "$1" "$(cat "$BASE/$1.pid")"; }

# PID of a running server $1 of this instance whose pid file was lost, as the leader of its process
# group (not one of its per-connection children), so that it does not block its port for good.
# Empty when there is none.
orphan() {
  local d pid
  if [ "$1" = pure-ftpd ]; then
    pid=$(cat "$BASE/pure-ftpd.own.pid" 2>/dev/null) || return 0
    is_ours pure-ftpd "$pid" && echo "$pid"
    return 0
  fi
  for d in /proc/[0-9]*; do
    pid=${d#/proc/}
    if is_ours "$1" "$pid" && [ "$(awk '{print $5}' "$d/stat" 2>/dev/null)" = "$pid" ]; then
      echo "$pid"
      return 0
    fi
  done
  return 0
}

start_one() { # name port cmd...
  local name=$1 port=$2; shift 2
  local pidfile=$BASE/$name.pid
  if running "$name" && port_open "$port"; then
    return 0
  fi
  if running "$name"; then kill "$(cat "$pidfile")" 2>/dev/null || true; fi
  rm -f "$pidfile"
  if port_open "$port"; then
    local pid
    pid=$(orphan "$name")
    [ -n "$pid" ] || die "port $port is taken by a process this script did not start; free it first"
    echo "$pid" >"$pidfile"
    return 0
  fi
  # own session and process group (setsid), so stop.sh can end the server with its sessions
  # (9>&-: the daemons must not inherit the lock, or they would hold it forever)
  setsid "$@" >"$BASE/log/$name.out" 2>&1 </dev/null 9>&- &
  echo $! >"$pidfile"
}
start_one vsftpd $FTP_PORT /usr/sbin/vsftpd "$BASE/vsftpd.conf"
start_one vsftpd-ftps $FTPS_PORT /usr/sbin/vsftpd "$BASE/vsftpd-ftps.conf"
start_one sshd $SFTP_PORT /usr/sbin/sshd -D -e -f "$BASE/sshd_config"
# pure-ftpd has no config file (flags only) and renames its process title: the pid file it writes
# itself (-g) is what is_ours knows it by. It runs in the foreground (no -B), so $! is its PID.
# -A chroot to the home, -E no anonymous, -H no DNS, -l unix: /etc/shadow, -U 022:022 as vsftpd.
# Its LIST hides dot files by default (MLSD shows them): left so, as a real install has it.
start_one pure-ftpd $PURE_FTP_PORT "$PURE_FTPD" -S 127.0.0.1,$PURE_FTP_PORT -4 -A -E -H \
  -l unix -p $((PASV + 2000)):$((PASV + 2999)) -P 127.0.0.1 -c 200 -C 200 -U 022:022 -I 600 -g "$BASE/pure-ftpd.own.pid"
start_one nats-server $NATS_PORT /usr/sbin/nats-server -c "$BASE/nats-server.conf"

# bounded wait for all the ports (10 s)
up=0
for _ in $(seq 1 100); do
  if port_open $FTP_PORT && port_open $FTPS_PORT && port_open $SFTP_PORT && port_open $PURE_FTP_PORT && port_open $NATS_PORT; then up=1; break; fi
  sleep 0.1
done
if [ $up != 1 ]; then
  for n in $SERVERS; do
    echo "----- $BASE/log/$n.out" >&2
    tail -n 30 "$BASE/log/$n.out" >&2 || true
  done
  die "servers did not come up within 10 s (logs above)"
fi

HOSTKEY_SHA256=$(ssh-keygen -lf "$BASE/ssh/host_ed25519.pub" | awk '{print $2}')
cat > "$BASE/servers.env.tmp" <<EOF
CFX_TEST_BASE=$BASE
CFX_TEST_FTP_URL=ftp://$FTP_USER:$FTP_PASS@127.0.0.1:$FTP_PORT
CFX_TEST_PUREFTPD_URL=ftp://$FTP_USER:$FTP_PASS@127.0.0.1:$PURE_FTP_PORT
CFX_TEST_FTPS_URL=ftps://$FTP_USER:$FTP_PASS@127.0.0.1:$FTPS_PORT
CFX_TEST_FTPS_CA=$TLS/ca.crt
CFX_TEST_SFTP_URL=sftp://$FTP_USER@127.0.0.1:$SFTP_PORT
CFX_TEST_SFTP_KEY=$BASE/ssh/client_ed25519
CFX_TEST_SFTP_HOSTKEY_SHA256=$HOSTKEY_SHA256
CFX_TEST_SFTP_ROOT=$HOME_DIR
CFX_TEST_FTP_ROOT=$HOME_DIR
CFX_TEST_NATS_URL=nats://$NATS_USER:$NATS_PASS@127.0.0.1:$NATS_PORT
EOF
mv "$BASE/servers.env.tmp" "$BASE/servers.env"
cat "$BASE/servers.env"
