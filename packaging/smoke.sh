#!/bin/sh
# Smoke run of a built bundle as a bedside PC would see it: the bundle (installed under a fresh
# HOME) runs with the source tree, its virtual environment and the network out of reach.
#
#   packaging/smoke.sh dist/painmon        (make bundle-check builds first if needed)
#
# Checks: --version and paths; PortAudio and what it links are in the bundle; `painmon cry`
# scores a shared ESC-10 infant cry high, a dog low and the demo clip's sound track (the cry
# model, PyAV's FFmpeg); `painmon run` of the demo clip headless finds its one episode and
# crying seconds; `painmon demo` opens the window under Xvfb (no sound output: visual alarms
# only), keeps running and closes cleanly on SIGTERM;
# `painmon supervise` restarts a SIGKILLed monitor, whose session the next one closes `crashed`;
# linux/install.sh puts the menu entry, autostart entry, unit and icons in place.
set -eu

[ $# -eq 1 ] && [ -x "$1/painmon" ] || { echo "usage: packaging/smoke.sh BUNDLE_DIR (built by packaging/build.sh)" >&2; exit 2; }
bundle=$(cd "$1" && pwd)
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/painmon-smoke.XXXXXX)
trap 'rm -rf "$work"' EXIT

# The bundle goes where install.sh installs it; hard links where the file system allows (4+ GB).
mkdir -p "$work/home/.local/lib"
cp -al "$bundle" "$work/home/.local/lib/painmon" 2>/dev/null || cp -a "$bundle" "$work/home/.local/lib/painmon"
cp "$repo/assets/demo/demo.mp4" "$work/clip.mp4"
# Real recordings for `painmon cry`, copied now: the shared data beside the checkout is out of
# reach once the source tree is hidden (ESC-10, CC BY 3.0; ../shared/data/README.md)
esc10="$repo/../shared/data/audio/esc10"
for clip in 3-152007-B-20.flac 1-100032-A-0.flac; do   # an infant crying; a dog barking
    [ -f "$esc10/$clip" ] || { echo "smoke: $esc10/$clip is missing (the shared test data)" >&2; exit 1; }
    cp "$esc10/$clip" "$work/$clip"
done

cat > "$work/steps.sh" <<'STEPS'
set -eu
cd "$WORK"
export HOME="$WORK/home" PATH=/usr/local/bin:/usr/bin:/bin
unset XDG_CONFIG_HOME XDG_DATA_HOME XDG_STATE_HOME XDG_CACHE_HOME PYTHONPATH VIRTUAL_ENV \
      PAINMON_CONFIG QT_QPA_PLATFORM DISPLAY WAYLAND_DISPLAY TEST_POSTGRES_URL
painmon="$HOME/.local/lib/painmon/painmon"
log="$HOME/.local/state/painmon/log/painmon.log"
fail() { echo "SMOKE FAILED: $*" >&2; exit 1; }

echo "== painmon --version"
"$painmon" --version
echo "== painmon paths"
"$painmon" paths
echo "== painmon-monitor --help (the window's program)"
"$HOME/.local/lib/painmon/painmon-monitor" --help | grep -q -- "--kiosk" || fail "painmon-monitor is not the live window"

echo "== PortAudio for the cot microphone: in the bundle, with everything it links"
internal="$HOME/.local/lib/painmon/_internal"
[ -f "$internal/libportaudio.so.2" ] || fail "the bundle has no libportaudio.so.2"
LD_LIBRARY_PATH="$internal" ldd "$internal/libportaudio.so.2" > portaudio.ldd
grep "libasound\|libjack" portaudio.ldd
! grep "not found" portaudio.ldd || fail "PortAudio's libraries are incomplete"

echo "== painmon cry --json: an infant cry, a dog, the demo clip's sound track"
"$painmon" cry --json 3-152007-B-20.flac 1-100032-A-0.flac clip.mp4 > cry.json 2> cry.err \
    || { cat cry.err; fail "painmon cry"; }
sed 's/, "windows": .*}/}/' cry.json
cry_max() { sed -n "s/.*\"file\": \"$1\", \"audio\": true,.*\"cry_max\": \([0-9.]*\),.*/\1/p" cry.json; }
holds() { awk -v x="$1" -v op="$2" -v y="$3" 'BEGIN { if (x == "") exit 1; exit !(op == ">=" ? x + 0 >= y : x + 0 < y) }'; }
holds "$(cry_max 3-152007-B-20.flac)" ">=" 0.05 || fail "the infant cry did not score 0.05 or more"
holds "$(cry_max 1-100032-A-0.flac)" "<" 0.05 || fail "the dog scored 0.05 or more as a cry"
holds "$(cry_max clip.mp4)" ">=" 0.05 || fail "the demo clip's crying was not heard"

echo "== painmon run --source clip.mp4 (headless)"
start=$(date +%s)
"$painmon" run --source clip.mp4 > run.txt 2> run.err || { cat run.err; fail "painmon run"; }
cat run.txt
echo "(run took $(( $(date +%s) - start )) s)"
grep -q "pain-expression episodes: 1" run.txt || fail "the demo clip's one episode was not found"
grep -q "sound: .*crying [1-9]" run.txt || fail "the demo clip's sound track gave no crying seconds"

echo "== painmon demo under Xvfb: 25 s, then SIGTERM"
Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3> display.txt 2> xvfb.err &
xvfb=$!
for _ in $(seq 50); do [ -s display.txt ] && break; sleep 0.1; done
export DISPLAY=":$(cat display.txt)"
"$painmon" demo > demo.out 2>&1 &
demo=$!
sleep 25
kill -0 "$demo" 2>/dev/null || { cat demo.out; fail "the demo window exited early"; }
command -v import >/dev/null && import -window root demo.png 2>/dev/null || true
kill -TERM "$demo"
status=0; wait "$demo" || status=$?
kill "$xvfb"; unset DISPLAY
[ "$status" -eq 0 ] || { cat demo.out; fail "the demo window exited $status on SIGTERM"; }
grep "session [0-9]* \(started\|ending\)" "$log" | tail -2
grep -q "session [0-9]* started: file demo.mp4" "$log" || fail "the demo window opened no session"
grep -q "ending: stopped_by_user after [1-9][0-9]* frames" "$log" || fail "the demo session did not end cleanly with frames"
echo "demo window ran 25 s and closed cleanly on SIGTERM"
# The clip has sound; a PC without an audio output still runs the window, visual alarms only
grep -m1 "sound unavailable" "$log" || echo "sound: the window found an audio output"

echo "== painmon supervise: SIGKILL the monitor, see it restart"
sessions() { grep -c "session [0-9]* started" "$log" || true; }
before=$(sessions)
"$painmon" supervise --restart-delay 1 -- run --source clip.mp4 --realtime > supervise.out 2>&1 &
supervisor=$!
for _ in $(seq 600); do [ "$(sessions)" -gt "$before" ] && break; sleep 0.1; done
pid=$(sed -n 's/.*supervisor: monitor started (pid \([0-9]*\), start 1).*/\1/p' "$log" | tail -1)
[ -n "$pid" ] && [ "$(sessions)" -gt "$before" ] || { cat supervise.out; fail "the supervisor never started a monitor"; }
kill -KILL "$pid"
for _ in $(seq 600); do grep -q "closed as crashed" "$log" && break; sleep 0.1; done
kill -TERM "$supervisor"
wait "$supervisor" || true
grep "supervisor:\|closed as crashed" "$log"
grep -q "closed as crashed" "$log" || { cat supervise.out; fail "the restarted monitor did not close the killed session"; }

echo "== linux/install.sh"
"$HOME/.local/lib/painmon/linux/install.sh"
"$HOME/.local/bin/painmon" --version
for file in "$HOME/.local/share/applications/painmon.desktop" "$HOME/.config/autostart/painmon.desktop" \
            "$HOME/.config/systemd/user/painmon.service" "$HOME/.local/share/icons/hicolor/48x48/apps/painmon.png"; do
    [ -s "$file" ] || fail "install.sh did not write $file"
done
! grep -l "@BINDIR@" "$HOME/.local/share/applications/painmon.desktop" "$HOME/.config/autostart/painmon.desktop" \
    "$HOME/.config/systemd/user/painmon.service" || fail "a placeholder was left in the installed files"
grep -q "Traceback" "$log" && { grep -B2 -A12 "Traceback" "$log"; fail "the log has a traceback"; }
echo "SMOKE PASSED"
STEPS

cd "$work"
if unshare --mount --net true 2>/dev/null; then
    echo "smoke: source tree $repo hidden, no network"
    WORK="$work" unshare --mount --net sh -c "mount -t tmpfs tmpfs '$repo' && sh '$work/steps.sh'"
else
    echo "smoke: cannot hide the source tree here (unshare needs root); running from $work anyway"
    WORK="$work" sh "$work/steps.sh"
fi
mkdir -p "$repo/build"
[ -f "$work/demo.png" ] && cp "$work/demo.png" "$repo/build/smoke-demo.png" && echo "screenshot: build/smoke-demo.png"
exit 0
