"""The palette's Screenshot, saved where it can be.

Textual saves it to ~/Downloads, which an account on a server reached over SSH often lacks: the
palette said "Failed to save screenshot" and no reason, and a success named the path in markup
that this app's plain-text notifications show as typed. Here the working directory is used when
there is no Downloads folder, and a failure names why. Served in a browser, Textual's delivery
(a download) is kept.
"""

from __future__ import annotations

from pathlib import Path

from textual.app import App


def save_screenshot(app: App, filename: str | None = None, path: str | None = None) -> None:
    """Write the screen as SVG to `path` (else Downloads, else the working directory) and say
    where, or why it could not be written."""
    if app.is_web:
        app.deliver_screenshot(filename, path)
        return
    from platformdirs import user_downloads_path
    from textual._files import generate_datetime_filename

    downloads = user_downloads_path()
    folder = Path(path) if path else downloads if downloads.is_dir() else Path.cwd()
    target = folder / (filename or generate_datetime_filename(app.title, ".svg"))
    try:
        target.write_text(app.export_screenshot(), encoding="utf-8")
    except OSError as exc:
        reason = exc.strerror or str(exc)
        app.notify(f"cannot save the screenshot to {target}: {reason}", severity="error")
        return
    app.notify(f"saved to {target}", title="Screenshot")


__all__ = ["save_screenshot"]
