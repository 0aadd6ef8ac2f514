"""Alarm tuning: replay stored sessions with other settings and score episodes against truth."""
