#!/bin/sh
# Installs the painmon bundle for the current user: the program, its menu entry and icons, the
# login autostart entry and the systemd user unit (see README "Bedside PC").
#
#   dist/painmon/linux/install.sh [--prefix DIR] [--no-autostart]   install (default ~/.local)
#   ~/.local/lib/painmon/linux/install.sh --uninstall [--prefix DIR]   remove (keeps the record)
set -eu

bundle=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
prefix="$HOME/.local"
autostart=yes
action=install
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) prefix=$2; shift 2 ;;
        --no-autostart) autostart=no; shift ;;
        --uninstall) action=uninstall; shift ;;
        *) echo "install.sh: unknown option $1 (use --prefix DIR, --no-autostart, --uninstall)" >&2; exit 2 ;;
    esac
done

libdir="$prefix/lib/painmon"
bindir="$prefix/bin"
data="${XDG_DATA_HOME:-$HOME/.local/share}"
config="${XDG_CONFIG_HOME:-$HOME/.config}"
menu_entry="$data/applications/painmon.desktop"
autostart_entry="$config/autostart/painmon.desktop"
unit="$config/systemd/user/painmon.service"
programs="painmon painmon-monitor painmon-session"

if [ "$action" = uninstall ]; then
    systemctl --user stop painmon.service 2>/dev/null || true
    for name in $programs; do rm -f "$bindir/$name"; done
    rm -f "$menu_entry" "$autostart_entry" "$unit"
    find "$data/icons/hicolor" -name 'painmon.*' -path '*/apps/*' -delete 2>/dev/null || true
    rm -rf "$libdir"
    systemctl --user daemon-reload 2>/dev/null || true
    echo "painmon removed; settings, record and logs are kept (painmon paths listed them)"
    exit 0
fi

[ -x "$bundle/painmon" ] || { echo "install.sh: no painmon program in $bundle" >&2; exit 2; }
if [ "$bundle" != "$libdir" ]; then
    mkdir -p "$prefix/lib"
    rm -rf "$libdir.new"
    cp -a "$bundle" "$libdir.new"
    rm -rf "$libdir"
    mv "$libdir.new" "$libdir"
fi

mkdir -p "$bindir" "$data/applications" "$data/icons" "$config/systemd/user"
ln -sfn "$libdir/painmon" "$bindir/painmon"
ln -sfn "$libdir/painmon-monitor" "$bindir/painmon-monitor"
ln -sfn "$libdir/linux/painmon-session" "$bindir/painmon-session"
render() { sed "s|@BINDIR@|$bindir|g" "$libdir/linux/$1" > "$2"; }
render painmon.desktop "$menu_entry"
render painmon.service "$unit"
if [ "$autostart" = yes ]; then
    mkdir -p "$config/autostart"
    render painmon-autostart.desktop "$autostart_entry"
fi
cp -R "$libdir/_internal/assets/icons/hicolor" "$data/icons/"
command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q "$data/icons/hicolor" 2>/dev/null || true
systemctl --user daemon-reload 2>/dev/null || true

echo "painmon installed in $libdir"
echo "  programs:  $bindir/painmon, $bindir/painmon-monitor"
echo "  menu:      $menu_entry"
[ "$autostart" = yes ] && echo "  at login:  $autostart_entry (systemd unit $unit, else painmon supervise)"
"$bindir/painmon" paths
