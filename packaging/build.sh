#!/bin/sh
# From a clean checkout to dist/painmon/, the desktop bundle (README "Bedside PC", docs/PACKAGING.md):
#   packaging/build.sh        (or: make bundle)
# Sets up .venv as `make setup` does, adds the pinned PyInstaller, builds both programs over one
# runtime, then adds the Linux desktop files and the licences.
set -eu
cd "$(dirname "$0")/.."
start=$(date +%s)
make setup
.venv/bin/pip install -q -e '.[bundle]'
# Reproducible: the commit's time inside the archives, and a fixed string hash so that
# PyInstaller's sets of modules come out in the same order (base_library.zip differed without it)
SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || echo 315532800)
PYTHONHASHSEED=0
export SOURCE_DATE_EPOCH PYTHONHASHSEED
rm -rf dist/painmon
.venv/bin/pyinstaller --noconfirm --clean --log-level WARN \
    --distpath dist --workpath build/pyinstaller packaging/painmon.spec
cp -R packaging/linux dist/painmon/linux
cp LICENSE NOTICE dist/painmon/
cp assets/ATTRIBUTION.md dist/painmon/ATTRIBUTION.md
echo "built dist/painmon in $(( $(date +%s) - start )) s: $(du -sh dist/painmon | cut -f1)," \
     "$(find dist/painmon -type f | wc -l) files"
