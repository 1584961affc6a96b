"""Package marker written by the fixture tooling (the real __init__ imports the whole pipeline)."""
