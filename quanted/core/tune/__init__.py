"""`quanted tune`: the smallest set of layers to raise so the quantized model meets float.

session.prepare / session.search / apply.apply are the API (see session's docstring); search.py
holds the algorithm, book.py runs trials on an executor, runner.py runs one trial in a scratch
folder, store.py records them in `.quanted/tune/`."""
