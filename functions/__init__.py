"""Vitrina: everything the Lambda functions run — catalog ingest, encoders, fusion, store, API logic.

Nothing here imports torch or anything from ``training_job``; the deployment package carries this
folder (through ``vendor/functions``) and nothing heavier than onnxruntime.
"""
