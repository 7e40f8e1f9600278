"""`.quanted/` beside a file: history copies, attempt records, the in-progress marker."""
