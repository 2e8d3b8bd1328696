"""Pure signal-processing functions on float32 numpy waveforms (no registered classes here).

Arrays are ``(n,)`` mono or ``(n, channels)``; rates are integers in Hz.
"""
