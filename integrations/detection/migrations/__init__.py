"""The ``detection`` Alembic branch (its version files are found through the ``migration_folders`` hook)."""
