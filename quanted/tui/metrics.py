"""What the histogram and `>` rank layers by (`m` switches): max entropy, or the analysis's drop.
Apart from row_model so the editor's first screen names them without importing numpy."""

ENTROPY, DROP = "entropy", "drop"
METRICS = (ENTROPY, DROP)
