"""Counsellors' dashboard and the local web chat (FastAPI, port 8000)."""
