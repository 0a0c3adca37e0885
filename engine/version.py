"""Model version: bump on any change that moves results."""

MODEL_VERSION = "2.0.0"
