"""The `champion` command line: a thin edge that translates, never decides."""
