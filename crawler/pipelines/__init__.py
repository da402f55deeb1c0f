"""Item pipelines, one class per file, in the order settings.py runs them: clean, validate, store."""
