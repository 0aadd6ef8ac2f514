"""The live bedside window: video, the S gauge, the trend strip, alarms, sound and controls.

The pipeline runs on its own thread (session.py) and hands results over by Qt signals; the
widgets only paint what they were last given.
"""
