"""Evaluation: metrics, paired statistical tests, the policy and its verdict."""
