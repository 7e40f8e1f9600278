from quanted.launch import run

run()
