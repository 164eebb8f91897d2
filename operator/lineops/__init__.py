"""lineops: a Kubernetes-native MLOps operator for production lines."""

__version__ = "0.1.0"
