#!/usr/bin/env bash
# Installs appserver: the release binary on PATH, the shipped conf/ and www/ where the
# installed config finds them, and a data folder. Build as yourself first; this script
# never builds as root.
#
#   swift build -c release --product appserver
#   sudo ./install.sh [PREFIX]        # default PREFIX: /usr/local
#
# Files: PREFIX/bin/appserver, PREFIX/etc/appserver/ (appserver.conf, zones/, ftp-users),
# PREFIX/share/appserver/www/, data in PREFIX/var/lib/appserver/, and the systemd units
# (appserver.socket, appserver.service) with PREFIX's paths in PREFIX/lib/systemd/system/,
# where systemd looks for them for /usr/local and /usr. An existing config, zone or users
# file is kept, never overwritten. APPSERVER_BINARY names another binary.
set -euo pipefail
cd "$(dirname "$0")"
prefix=${1:-/usr/local}
binary=${APPSERVER_BINARY:-.build/release/appserver}

if [ ! -x "$binary" ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "install.sh: $binary is missing; build it as yourself first: swift build -c release --product appserver" >&2
    exit 1
  fi
  swift build -c release --product appserver
fi

etc=$prefix/etc/appserver share=$prefix/share/appserver data=$prefix/var/lib/appserver
install -d "$prefix/bin" "$etc/zones" "$share" "$data"
install -m 755 "$binary" "$prefix/bin/appserver"
rm -rf "$share/www"
cp -R www "$share/www"
for zone in conf/zones/*; do
  [ -e "$etc/zones/$(basename "$zone")" ] || install -m 644 "$zone" "$etc/zones/"
done
[ -e "$etc/ftp-users" ] || install -m 600 conf/ftp-users "$etc/ftp-users"
if [ ! -e "$etc/appserver.conf" ]; then
  sed -e "s|^www = .*|www = $share/www|" -e "s|^data = .*|data = $data|" \
      -e "s|^# ftp-root = [^ ]*|# ftp-root = $data/ftp|" -e "s|^# pid-file = [^ ]*|pid-file = $data/appserver.pid|" \
      conf/appserver.conf > "$etc/appserver.conf"
  chmod 644 "$etc/appserver.conf"
fi
units=$prefix/lib/systemd/system
install -d "$units"
for unit in appserver.socket appserver.service; do
  sed -e "s|/usr/local/|$prefix/|g" "conf/$unit" > "$units/$unit"
  chmod 644 "$units/$unit"
done
case $units in
  /usr/local/lib/systemd/system | /usr/lib/systemd/system) enable="systemctl enable --now appserver.socket appserver.service" ;;
  *) enable="systemctl enable --now $units/appserver.socket $units/appserver.service" ;;
esac
# systemd runs here (sd_booted(3)'s test): it reads the new units now.
if [ -d /run/systemd/system ] && [ "$(id -u)" = 0 ]; then
  systemctl daemon-reload
  how="With systemd (the sockets bound by systemd, the supervisor restarted if it fails):"
else
  how="Where systemd runs, the same under it (the sockets bound by systemd):"
fi

cat <<DONE
appserver installed in $prefix/bin. Check and run it with:
  $prefix/bin/appserver check --config $etc/appserver.conf
  sudo $prefix/bin/appserver --config $etc/appserver.conf
To bind ports below 1024 without root:
  sudo setcap cap_net_bind_service=+ep $prefix/bin/appserver
$how
  sudo $enable
Units in $units: keep the ports in appserver.socket as appserver.conf has them.
DONE
