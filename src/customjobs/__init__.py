"""customjobs: a self-hosted server wire-compatible with Vertex AI CustomJobs."""

__version__ = "0.1.0"
