"""Alembic environment: runs on the connection that monitor.store.migrate hands over.

There is no alembic.ini and no URL here: the program opens the database (with its pragmas and
error messages) and passes the connection in `config.attributes["connection"]`.
"""

from alembic import context

from monitor.store.schema import Base


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through monitor.store.migrate (it passes a connection)")
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things: Alembic copies the table instead
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
