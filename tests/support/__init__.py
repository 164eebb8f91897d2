"""Test support: the real control plane, Kubernetes clients and the operator runner."""
