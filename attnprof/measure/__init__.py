"""Measurements of a built block: latency (``latency``), memory (``memory``)."""
