"""Many runs on a virtual clock: the demo world and (soon) what-if simulation.

Drives `orchlab.engine`; imports nothing above it (no analysis, render or UI).
"""
