"""The review window (`painmon review`): sessions, timeline, episode table, annotations."""
