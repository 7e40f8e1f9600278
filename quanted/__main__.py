from quanted.cli import run

run()
