import type { Role } from './types.js';

/**
 * A commented `cfx.yaml` for `cfx init`: every key with a one-line comment, defaults written
 * out, secrets taken from the environment. It passes validation as it is (given the env var).
 */
export function initTemplate(role: Role): string {
  const terminal = role === 'terminal';
  const who = terminal
    ? `# This machine is a till: it pulls price files from its inbox on the server and
# uploads every sale to the sales dir.
role: terminal                      # terminal (a till) or office (the back office PC)
terminal: till-01                   # this till's id: letters, digits, _ . - (used in remote paths and file names)
`
    : `# This machine is the office: it publishes price files to every till's inbox and
# collects the sales files the tills upload.
role: office                        # terminal (a till) or office (the back office PC)
terminals:                          # the tills this office serves (their ids)
  - till-01
  - till-02
`;
  return `# cfx.yaml — cfx configuration (${role} role)
# Relative paths are relative to this file. \${NAME} takes a value from the environment
# (\${NAME:-default} with a default; write $\${ for a literal \${). Check it with "cfx config check".

${who}
dataDir: ./cfx-data                 # local store, archive and quarantine (default ./cfx-data)

# The file server. The scheme picks the transport: ftp://, ftps:// or sftp://.
# Keep the password out of this file: it comes from the environment (special characters are fine).
server: "ftp://cfx:\${CFX_FTP_PASSWORD}@ftp.example.com:21"   # user cfx, password from $CFX_FTP_PASSWORD
serverOptions: {}                   # options of the transport (see its docs)
# SFTP instead, with the server's host key pinned (the connection is refused on a mismatch;
# get it with: ssh-keyscan -t ed25519 ftp.example.com | ssh-keygen -lf -):
# server: "sftp://cfx:\${CFX_FTP_PASSWORD}@ftp.example.com:22"
# serverOptions:
#   hostKey: "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"   # put your server's fingerprint here
timeout: 30s                        # deadline of one remote call (e.g. 30s, 2m; a bare number is ms)

prices:                             # price files: office -> tills
  dir: "/ftpbox/{terminal}"         # each till's inbox on the server; {terminal} is the till id
  format: csv                       # price file format: csv, xml (CommerceML 2), atol
  poll: 1s                          # how often a till looks for new price files (at least 100ms)
  options: {}                       # options of the format (delimiter, encoding, ...)
  maxFileSize: 512MB                # a bigger price file is refused and quarantined
  maxLineLength: 1MB                # a longer line is refused and the file quarantined
  stable: 0                         # a file is taken once its size stops changing; 0 = across two listings
  order: natural                    # natural (prices_9 before prices_10, then mtime), name or mtime
  allowEmptyFull: false             # a full file with no products is quarantined unless true
  # maxRemovedShare: 0.5            # quarantine a full file that would remove more than half the catalog

sales:                              # sale files: tills -> office
  dir: "/ftpbox/{terminal}/sales"   # where each till uploads its sales and the office collects them; with
                                    # {terminal} every till has its own dir (and FTP account, docs/security.md),
                                    # so the office knows whose file it is. /ftpbox/sales (shared) works but cannot tell tills apart
  format: csv                       # sale file format: csv, xml, atol
  options: {}                       # options of the format
  connections: 1                    # parallel uploads when there is a backlog (1-16)
  # spool: ./spool                  # a dir the till program drops sale JSON files into (optional)
  maxFileSize: 16MB                 # office: a bigger sale file is quarantined (one file holds one sale)

backoffice:                         # back-office adapter (office role; a till ignores it)
  use: generic                      # generic: one CSV per delivery into outDir (docs/backoffice-generic.md)
  options:                          # the adapter's options
    outDir: ./sales-out             # where collected sales are delivered, each sale exactly once
# backoffice:                       # 1C/BAS, once the 1c adapter is installed:
#   use: 1c
#   options: {}                     # the adapter's options (exchange folder, ...; see its docs)

plugins: []                         # extra plugins: npm package names or paths
pluginOptions: {}                   # options per plugin id, e.g. { my-plugin: { key: value } }

schedule:                           # timed jobs (cron: minute hour day-of-month month day-of-week)
  - job: archive.prune              # delete local archive days older than archive.keepDays
    cron: "0 3 * * *"               # every night at 03:00

status:                             # terminal: the status file the office reads (docs/fleet.md)
  dir: /ftpbox/status               # remote dir of <terminal>.status.json; {terminal} is the till id
  every: 1m                         # written at least this often, and soon after every change

archive:                            # local copies of every file that crossed the wire
  keepDays: 30                      # days of local copies kept in the archive

# status:                           # the till's status file (docs/fleet.md): written by a till, read by the office
#   dir: /ftpbox/status             # remote dir of <terminal>.status.json; {terminal} expands
#   every: 1m                       # a till writes it at least this often
# fleet:                            # office: how it judges its tills (cfx fleet, docs/fleet.md)
#   staleAfter: 5m                  # a till whose last status the office read longer ago is stale
#   gapRetry: 10m                   # a missing receipt is asked for again after this, doubling ...
#   gapRetryMax: 6h                 # ... up to this

# admin:                            # the local admin page + HTTP API, served by "cfx run" (docs/admin.md); absent = off
#   listen: 127.0.0.1:8730          # host:port (default 127.0.0.1:8730: this PC only); another address needs a token
#   token: "\${CFX_ADMIN_TOKEN}"     # at least 16 characters; asked by the page and required for every change

log:                                # logging (JSON lines)
  level: info                       # fatal, error, warn, info, debug, trace or silent
  # file: ./cfx.log                 # write JSON lines to files beside this path (default: standard error);
  #                                 # cfx.log itself links to the current cfx.<date>.<n>.log
  # rotate:                         # a new file at size and every day; at most (keep + 1) x size on disk
  #   size: 10MB                    # (the defaults: 150 MB at most, whatever the uptime)
  #   frequency: daily              # daily or hourly
  #   keep: 14                      # old files kept; rotate: false = one growing file (an external logrotate)
`;
}
