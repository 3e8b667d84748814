"""Monitoring: drift tests, data quality, performance and its estimation, reports.

Domain layer: usable without servers or MLflow (numpy, scipy, scikit-learn only).
"""
