"""``python -m loregate``: the same as the ``loregate`` command."""

from loregate.cli.main import main

main()
