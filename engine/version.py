"""Model version: bump on any change that moves results."""

MODEL_VERSION = "0.1.0"
