"""Offline profiling stages (the only part of semopt that may import torch).

Submodules import torch / compressai lazily where possible; install the ``profile`` extra
(``pip install semopt[profile]``) to use them.
"""
