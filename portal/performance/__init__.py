"""Performance data: projects, goals and indicator tables, goal review, monitoring, evaluations."""


def init_app(app):
    from portal.performance import policies  # noqa: F401  (registers permission policies)
