"""`python -m chipwatch.cli`: the command line, as the daemon starts its crawl processes."""

from chipwatch.cli import main

main()
