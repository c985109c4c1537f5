"""The ``stations`` Alembic branch (found through the ``migration_folders`` hook)."""
