"""The portal shell's blueprint `core` (endpoints `core.*`), shared by the `*_views.py` files."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("core", __name__)
