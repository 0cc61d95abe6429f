"""Vitrina's training side: builds the encoder and fusion ONNX files and their manifest.

It runs in its own environment (``requirements.txt``, with torch); nothing in ``functions/``
imports it.
"""
