"""Pain signal (S, F) and the alarm state machine of ALARMS.md: pure, driven by the session clock."""
