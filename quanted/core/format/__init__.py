"""The file formats: a .quantize file's lines, its customized block, entropy.txt, and what the
engine's loader accepts (docs/format.md sections 1-5)."""
