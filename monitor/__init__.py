"""Bedside infant pain-expression monitor (not a certified medical device)."""

__version__ = "0.1.0"
