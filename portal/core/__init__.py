"""Shared mechanisms every workflow module uses."""
