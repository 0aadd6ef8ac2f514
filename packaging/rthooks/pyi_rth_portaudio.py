"""Runtime hook: sounddevice uses the PortAudio library the bundle carries.

sounddevice finds PortAudio on Linux with ctypes.util.find_library("portaudio"), which asks the
system's ldconfig cache and never looks inside the bundle: on a PC without libportaudio2 the
microphone would fail although the library ships in _internal/. Point that one name at the copy
(PyInstaller's sounddevice hook collects the build machine's libportaudio.so.2 there)."""

import ctypes.util
import glob
import os
import sys

_BUNDLED = sorted(glob.glob(os.path.join(sys._MEIPASS, "libportaudio.so*")))

if sys.platform.startswith("linux") and _BUNDLED:
    _system_find_library = ctypes.util.find_library

    def _find_library(name):
        return _BUNDLED[0] if name == "portaudio" else _system_find_library(name)

    ctypes.util.find_library = _find_library
