"""Tests of framework.autograd and the FunctionLayer bridge.

A package, because its file names repeat those in tests/.
"""
