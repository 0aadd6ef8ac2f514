"""Monitor instances and the cues beyond the face.

- `monitoring_session.instance_id`: the process that writes the session (monitor.store.lease),
  so start-up recovery closes only the sessions of dead processes, not those of a second
  `painmon` running on the same computer.
- `monitoring_session.audio`: what the session heard (a microphone, a file's sound track), or
  null: no microphone, the cry cue unknown throughout.
- `sample.c`, `sample.cry_max`, `sample.m`: the smoothed cry cue, the highest window cry score,
  the movement cue of each second (null when unknown).
- `episode.cues`: which cues carried the alarm, e.g. "face+cry".

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

COLUMNS = (
    ("monitoring_session", sa.Column("instance_id", sa.String(32), nullable=True)),
    ("monitoring_session", sa.Column("audio", sa.String(), nullable=True)),
    ("sample", sa.Column("c", sa.Double(), nullable=True)),
    ("sample", sa.Column("cry_max", sa.Double(), nullable=True)),
    ("sample", sa.Column("m", sa.Double(), nullable=True)),
    ("episode", sa.Column("cues", sa.String(), nullable=True)),
)


def upgrade() -> None:
    # Plain ADD COLUMN (no table rebuild), as in 0002: triggers and foreign keys stay untouched.
    for table, column in COLUMNS:
        op.add_column(table, column)


def downgrade() -> None:
    for table, column in reversed(COLUMNS):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column.name}")
