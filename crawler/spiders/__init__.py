"""One thin spider per declared source (crawler/sources.yaml), plus ``generic`` for any site."""
