"""`python -m egsu.cli …`: the same as the `egsu` console script (used to start child processes)."""

from egsu.cli import main

main()
