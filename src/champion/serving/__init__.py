"""Scoring endpoints: model holder with hot swap, batching, the HTTP edge, processes."""
