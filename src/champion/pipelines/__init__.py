"""Pipelines: ordered steps over the domain and the stores (ingest, train, evaluate,
register, build). A CLI command and (later) an HTTP route call the same function here."""
