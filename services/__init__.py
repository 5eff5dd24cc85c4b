"""The four domain services. None imports another; only their ``contracts`` are shared."""
