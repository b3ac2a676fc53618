"""The `pose3d` command line: thin typer wrappers over the library."""
