"""Import every module's models so that `db.metadata` is complete (migrations, checks)."""
import importlib
import importlib.util


def import_all() -> None:
    from portal import MODULES

    for name in ("portal.accounts.models", "portal.core.audit", "portal.core.attachments",
                 "portal.core.notifications", "portal.core.api"):
        importlib.import_module(name)
    for module in MODULES:
        package = importlib.import_module(module)
        if hasattr(package, "__path__") and importlib.util.find_spec(f"{module}.models") is not None:
            importlib.import_module(f"{module}.models")
