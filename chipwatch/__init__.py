"""chipwatch: follow the news on chip export policy."""

__version__ = "0.1.0"
