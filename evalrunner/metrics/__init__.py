"""Derived metrics: capacity density, the densing law and scaling predictability.

Every definition is the one the methodology page states; `registry.METRICS` describes each
published number and `compute.compute_all(frames, config)` computes all tables from a loaded
`Frames`.
"""
