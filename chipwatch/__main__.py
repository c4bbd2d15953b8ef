"""`python -m chipwatch`: the command line."""

from chipwatch.cli import main

main()
