"""Renderers of Profiles: rich tables, Markdown, JSON files. They read, never compute."""
