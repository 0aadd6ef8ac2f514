"""Clinician review of logged sessions: read helpers, annotations, audit, exports (CSV, PDF,
FHIR R4), forwarding to the ward's central PostgreSQL store and purging old data.

No Qt here: the review window (monitor.ui.review) and the command line both build on these.
"""
