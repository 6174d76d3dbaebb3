"""Matplotlib figures for each front end (one module per front end)."""
