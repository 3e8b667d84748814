"""Data: strict reading and validation, datasets, and the golden split."""
