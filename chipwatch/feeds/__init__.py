"""Atom feeds out: every relevant article, one topic, one story or one watch, for any feed reader."""
