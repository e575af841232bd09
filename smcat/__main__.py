"""`python -m smcat` runs the smcat command."""

from smcat.cli import main

main()
