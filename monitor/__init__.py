"""Bedside infant pain-expression monitor (not a certified medical device)."""

import os

# OpenCV and its FFmpeg backend print to stderr on every unreadable file; our errors say it better.
os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")

__version__ = "0.1.0"
