"""Hand-written test sites and the small HTTP server that serves them on 127.0.0.1."""
