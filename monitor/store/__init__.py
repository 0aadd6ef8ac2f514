"""Storage: schema and migrations, the single writer thread, read helpers, the packed frame trace.

Entry points: `database.open_database`, `writer.StoreWriter`, `queries`, `trace`.
"""
