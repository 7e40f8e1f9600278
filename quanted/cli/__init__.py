"""The headless driver: `quanted SUBCOMMAND ...`, a thin layer over quanted.core."""

from quanted.cli.main import main

__all__ = ["main"]
