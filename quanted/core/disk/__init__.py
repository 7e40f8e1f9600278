"""The file on disk: reads with one-line errors, the lock, versions (stamps), saves that respect
the file, and the checks a save can skip."""
