"""`python -m champion` runs the CLI."""

from champion.cli.app import main

main()
