"""Checks: each reads units of the neutral model and returns findings."""
