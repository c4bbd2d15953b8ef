"""Watches: saved searches matched against every run's new articles, delivered by email, webhook, the digest
and Atom feeds, each (watch, article) once."""
