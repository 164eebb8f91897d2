"""MES analytics (SPC, capability, OEE, drift): pure functions over numbers, no Kubernetes."""
