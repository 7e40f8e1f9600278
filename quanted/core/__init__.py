"""The core: documents, entropy reports, engine runs. Never imports Textual."""
