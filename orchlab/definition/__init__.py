"""What an orchestration is: the model, its builder, conditions, validation and file format.

The lowest layer: imports only `orchlab.errors` and `orchlab.limits` (and PyYAML), never the
engine, store or UI.
"""
