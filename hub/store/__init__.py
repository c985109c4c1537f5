"""Storage: SQLAlchemy 2 async models, the database engine, Alembic migrations, the recorder and history."""
