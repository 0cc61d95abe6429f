"""ONNX encoders (text, image) and the fusion model, loaded from a manifest-checked models folder."""
