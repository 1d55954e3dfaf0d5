"""Loaders: each reads one input format into the neutral model (iacguard.model)."""
