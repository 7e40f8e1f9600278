"""quanted: a terminal editor for ACUITY .quantize files and entropy.txt reports."""

__version__ = "0.1.0"
