"""``python -m landscape ...``: the same commands as the ``landscape`` console script."""

from landscape.cli import main

main()
