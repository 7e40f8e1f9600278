"""Running the ACUITY engine (pegasus): finding it, building its command lines, running
them with a live log, and reading what they did. No Textual here either."""
