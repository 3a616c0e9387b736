"""Run the CLI as ``python -m repatriate``."""

from .cli import main

main()
