"""The terminal editor (Textual). The core (quanted.core) never imports this package."""
