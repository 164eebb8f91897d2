"""The quality inspector: a QualityModel's champion served by BentoML with online features."""
