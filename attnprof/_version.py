"""The version of attnprof, in a module of its own: packaging reads it without importing
the package."""

__version__ = "0.1.0"
