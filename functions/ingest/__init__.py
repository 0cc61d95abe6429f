"""Catalog ingest as a pipeline of small stages, each testable alone:

``feed`` parses and validates records → ``plan`` compares them with what is stored → ``encode``
runs the text and image encoders on what changed → ``fuse`` builds fused vectors → ``write``
stores each batch in one transaction. ``sources`` reads files from a local folder or S3, and
``pipeline`` runs the stages for a feed file or a single photo.
"""
