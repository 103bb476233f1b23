#!/bin/sh
# Installs the safekit single file (dist/safekit from `deno task build`) on a Linux node. See docs/build.md.
#   install.sh FILE [--prefix /opt/safekit] [--safevar /var/safekit] [--no-service] [--unit-dir DIR] [--enable]
# FILE becomes SAFE/safekit; SAFE and SAFEVAR are created; a systemd unit safeadmin.service is written when
# systemd runs this machine (or --unit-dir is given), and enabled and started only with --enable.
set -eu

usage() {
  echo "usage: $0 FILE [--prefix /opt/safekit] [--safevar /var/safekit] [--no-service] [--unit-dir DIR] [--enable]" >&2
  exit 2
}
die() {
  echo "install.sh: $*" >&2
  exit 1
}

FILE=
SAFE=/opt/safekit
SAFEVAR=/var/safekit
SERVICE=auto
UNIT_DIR=/etc/systemd/system
ENABLE=no
while [ $# -gt 0 ]; do
  case $1 in
    --prefix) [ $# -ge 2 ] || usage; SAFE=$2; shift 2 ;;
    --safevar) [ $# -ge 2 ] || usage; SAFEVAR=$2; shift 2 ;;
    --no-service) SERVICE=no; shift ;;
    --unit-dir) [ $# -ge 2 ] || usage; UNIT_DIR=$2; SERVICE=yes; shift 2 ;;
    --enable) ENABLE=yes; shift ;;
    -h | --help) usage ;;
    -*) echo "install.sh: unknown option '$1'" >&2; usage ;;
    *) [ -z "$FILE" ] || usage; FILE=$1; shift ;;
  esac
done
[ -n "$FILE" ] || usage
[ -f "$FILE" ] || die "'$FILE' is not a file (build it with: deno task build; it is dist/safekit)"
case $SAFE in /*) ;; *) die "--prefix must be an absolute path, got '$SAFE'" ;; esac
case $SAFEVAR in /*) ;; *) die "--safevar must be an absolute path, got '$SAFEVAR'" ;; esac

umask 022
mkdir -p "$SAFE" "$SAFE/private" || die "cannot create $SAFE (run as root?)"
mkdir -p "$SAFEVAR" || die "cannot create $SAFEVAR (run as root?)"
chmod 0750 "$SAFEVAR" # cluster keys and module logs live here

# Copy next to the target, then rename: a running daemon keeps its old file, the next start gets the new one.
cp "$FILE" "$SAFE/.safekit.new.$$"
chmod 0755 "$SAFE/.safekit.new.$$"
mv -f "$SAFE/.safekit.new.$$" "$SAFE/safekit"

# First run: proves the file works here and, for the self-extracting build, unpacks its runtime now
# (into SAFE/private/runtime) rather than at the first failover.
RUNTIME_DIR=$SAFE/private/runtime
if ! VERSION=$(SAFE=$SAFE SAFEVAR=$SAFEVAR SAFEKIT_RUNTIME_DIR=$RUNTIME_DIR "$SAFE/safekit" --version); then
  die "$SAFE/safekit --version failed; the file is installed but does not run on this machine"
fi
echo "installed $VERSION as $SAFE/safekit (SAFEVAR=$SAFEVAR)"

if [ "$SERVICE" = auto ]; then
  if [ -d /run/systemd/system ]; then SERVICE=yes; else SERVICE=no; fi
fi
if [ "$SERVICE" = no ]; then
  echo "no systemd unit written; start the node service with: SAFE=$SAFE SAFEVAR=$SAFEVAR $SAFE/safekit daemon"
  exit 0
fi

mkdir -p "$UNIT_DIR"
cat >"$UNIT_DIR/safeadmin.service.new.$$" <<UNIT
# Written by safekit installer/install.sh.
[Unit]
Description=The SafeKit Administration Daemon (safekit)
Wants=network-online.target
After=network-online.target

[Service]
Type=simple
Environment=SAFE=$SAFE SAFEVAR=$SAFEVAR SAFEKIT_RUNTIME_DIR=$RUNTIME_DIR
# Deno honours these (inspector, V8 flags, Deno.serve address, TLS key log); the daemon must not inherit them.
UnsetEnvironment=NODE_OPTIONS DENO_V8_FLAGS DENO_SERVE_ADDRESS SSLKEYLOGFILE
ExecStart=$SAFE/safekit daemon
Restart=on-failure
RestartSec=2

[Install]
WantedBy=multi-user.target
UNIT
mv -f "$UNIT_DIR/safeadmin.service.new.$$" "$UNIT_DIR/safeadmin.service"
echo "wrote $UNIT_DIR/safeadmin.service"

if [ "$UNIT_DIR" = /etc/systemd/system ] && command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  if [ "$ENABLE" = yes ]; then
    systemctl enable --now safeadmin.service
  else
    echo "enable and start it with: systemctl enable --now safeadmin"
  fi
elif [ "$ENABLE" = yes ]; then
  die "--enable needs systemd running this machine and the default unit dir"
fi
