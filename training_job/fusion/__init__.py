"""Fusion training: triplets from the shop's events, the network, the evaluation gate, publishing.

A subpackage so that build_models.py's build key (a non-recursive glob of training_job/*.py) does
not change with it: editing the training code never forces an encoder rebuild.
"""
