"""Densitometer: capacity density and scaling predictability for language models."""

__version__ = "0.1.0"
