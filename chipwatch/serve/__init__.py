"""`chipwatch serve`: the database in Datasette, read-only, described, with chipwatch's search plugin."""
