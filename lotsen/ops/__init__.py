"""Operations: scheduler health (admin page, banner, /healthz), backups and restore,
request ids and log lines. ``init_app`` wires it into the app factory."""

from flask import Flask


def init_app(app: Flask) -> None:
    from lotsen.ops import cli  # noqa: F401  (adds backup and restore to `flask lotsen`)
    from lotsen.ops.banner import scheduler_banner
    from lotsen.ops.requestlog import init_request_log
    from lotsen.ops.routes import bp

    app.register_blueprint(bp)
    app.context_processor(scheduler_banner)
    init_request_log(app)
