"""Forwarding to a central store and clinician review.

- `monitoring_session.uid`: a random global identity, since ids differ between databases;
  existing sessions get one here.
- `monitoring_session.purged_at`: `painmon purge` removes a session's data but keeps the row,
  because audit entries (which can never be deleted) refer to it.
- `origin_id` on the append-only tables, unique per session (per episode for annotations): the
  central store records which bedside row each copy came from, so a forward that is interrupted
  and repeated can never insert a row twice.
- Annotations are never updated (triggers on SQLite and PostgreSQL): a correction is a new one.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)
NO_UPDATE = "annotation rows are never changed: add a new annotation"
# table -> the column that scopes its origin ids
ORIGIN_SCOPE = {
    "sample": "session_id",
    "frame_trace": "session_id",
    "alarm_event": "session_id",
    "annotation": "episode_id",
    "audit_event": "session_id",
}


def upgrade() -> None:
    # Plain ADD COLUMN and CREATE INDEX: no table rebuild, so SQLite's foreign keys (checked during
    # a rebuild's DROP TABLE) and the audit triggers stay untouched on a populated database.
    op.add_column("monitoring_session", sa.Column("uid", sa.String(32), nullable=True))
    op.add_column("monitoring_session", sa.Column("purged_at", UTC, nullable=True))
    session = sa.table("monitoring_session", sa.column("id", sa.Integer), sa.column("uid"))
    conn = op.get_bind()
    for (session_id,) in conn.execute(sa.select(session.c.id)).all():
        conn.execute(session.update().where(session.c.id == session_id)
                     .values(uid=uuid.uuid4().hex))
    op.create_index("ix_monitoring_session_uid", "monitoring_session", ["uid"], unique=True)
    for table, scope in ORIGIN_SCOPE.items():
        op.add_column(table, sa.Column("origin_id", sa.Integer(), nullable=True))
        op.create_index(f"ix_{table}_{scope}_origin_id", table, [scope, "origin_id"], unique=True)
    _refuse_annotation_updates()


def _refuse_annotation_updates() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute(
            "CREATE TRIGGER annotation_no_update BEFORE UPDATE ON annotation "
            f"BEGIN SELECT RAISE(ABORT, '{NO_UPDATE}'); END"
        )
    elif dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION annotation_refuse_update() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{NO_UPDATE}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER annotation_no_update BEFORE UPDATE ON annotation "
            "FOR EACH ROW EXECUTE FUNCTION annotation_refuse_update()"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER annotation_no_update")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER annotation_no_update ON annotation")
        op.execute("DROP FUNCTION annotation_refuse_update()")
    # Plain DROP COLUMN (SQLite 3.35+), for the same reason as ADD COLUMN above.
    for table, scope in ORIGIN_SCOPE.items():
        op.drop_index(f"ix_{table}_{scope}_origin_id", table_name=table)
        op.execute(f"ALTER TABLE {table} DROP COLUMN origin_id")
    op.drop_index("ix_monitoring_session_uid", table_name="monitoring_session")
    op.execute("ALTER TABLE monitoring_session DROP COLUMN purged_at")
    op.execute("ALTER TABLE monitoring_session DROP COLUMN uid")
