"""`quanted report`: the hand-over text (handover.py) and the HTML page (html/)."""
