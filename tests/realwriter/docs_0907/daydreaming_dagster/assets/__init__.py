"""Package marker (tooling file, not a copy): the real assets/__init__.py imports every asset group of the pipeline; the tooling imports the few it runs directly."""
