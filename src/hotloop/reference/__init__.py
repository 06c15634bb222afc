"""Pure-Python and NumPy twins of hotloop's kernels.

They follow the source documents' algorithms (with their bugs fixed), serve as the test oracles
of the C kernels and as the baseline rows of ``hotloop bench``. They are written for clarity,
not speed.
"""
