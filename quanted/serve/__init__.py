"""`quanted serve FILE`: the editor in a browser, through textual-serve. Each browser tab runs
its own `quanted FILE` process; the server lets in only requests that carry its token."""
