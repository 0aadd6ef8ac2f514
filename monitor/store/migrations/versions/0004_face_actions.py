"""The face mesh's actions per second (issue 23).

- `sample.mouth_open`, `sample.eye_open`, `sample.brow`: the second's last face mesh reading, in
  inter-ocular distances (null: no reading that second, or a poor fit).
- `sample.mouth_covered`: that reading's share of the lip region that is neither skin nor lips
  (null: no reading, or a grey picture).
- `sample.face_state`: the face state in words at the second's end ("eyes closed, relaxed",
  "mouth covered", ...; null before the session's first reading).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

COLUMNS = (
    ("sample", sa.Column("mouth_open", sa.Double(), nullable=True)),
    ("sample", sa.Column("eye_open", sa.Double(), nullable=True)),
    ("sample", sa.Column("brow", sa.Double(), nullable=True)),
    ("sample", sa.Column("mouth_covered", sa.Double(), nullable=True)),
    ("sample", sa.Column("face_state", sa.String(), nullable=True)),
)


def upgrade() -> None:
    # Plain ADD COLUMN (no table rebuild), as in 0002 and 0003.
    for table, column in COLUMNS:
        op.add_column(table, column)


def downgrade() -> None:
    for table, column in reversed(COLUMNS):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column.name}")
