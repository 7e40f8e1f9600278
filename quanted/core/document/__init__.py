"""An open .quantize file: its index, the customized-list edits with undo, and what is computed
from it (the layer view, ids, carried comments)."""
