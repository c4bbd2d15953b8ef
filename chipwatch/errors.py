"""The exception tree. The CLI turns any ChipwatchError into a one-line message and a non-zero exit."""


class ChipwatchError(Exception):
    """Base for every error chipwatch reports to its user as one line."""


class ConfigError(ChipwatchError):
    """A configuration, sources or topics file is missing or invalid."""


class StorageError(ChipwatchError):
    """The database cannot be opened, migrated or written."""


class QueryError(ChipwatchError):
    """A search query or filter is malformed."""


class FeedError(ChipwatchError):
    """A feed could not be parsed into entries."""


class ExtractionError(ChipwatchError):
    """A page could not be turned into an article."""


class ClusterError(ChipwatchError):
    """The cluster's Redis cannot be reached, or another process holds what this one needs there."""
