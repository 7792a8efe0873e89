"""The ``neighbourhood`` command: thin Typer commands that parse, call and print."""
