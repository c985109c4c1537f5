"""Alembic migrations of the hub's schema (a package only so that wheels ship it)."""
