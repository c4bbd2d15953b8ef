"""The database: schema and migrations, one module per group of tables, the only place with SQL."""

from storage.database import open_database, opened, transaction

__all__ = ["open_database", "opened", "transaction"]
