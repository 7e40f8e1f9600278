"""The headless driver: `quanted SUBCOMMAND ...`, a thin layer over quanted.core."""

from quanted.cli.dispatch import main

__all__ = ["main"]
