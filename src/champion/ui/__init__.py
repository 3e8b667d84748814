"""`champion ui`: the control room of a project in a browser (read-only for now)."""
