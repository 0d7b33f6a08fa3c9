"""Benchmarks: the hub against the stock eventsourcing path, side by side."""
