"""How the apps look: one style sheet, and the few small widgets every app uses.

The style sheet is an `HTML` widget holding a `<style>` element; it is part of each app, so
JupyterLab and Voilà show the same page. Class names all start with `orchlab-`; the
browser tests find things by them.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as w

from orchlab.ui.common import Message

__all__ = ["CSS", "badge", "esc", "message_html", "style_sheet", "header", "Busy"]

BLUE, INK, GREY, LINE = "#0176d3", "#181818", "#706e6b", "#dddbda"
STATUS_COLOURS = {
    "InProgress": ("#e5f1fb", "#0b5cab"),
    "Assigned": ("#e5f1fb", "#0b5cab"),
    "Completed": ("#eaf7ee", "#2e844a"),
    "Canceled": ("#f3f3f3", "#5c5c5c"),
    "Suspended": ("#fff8e6", "#8c4b02"),
    "Error": ("#fef1ee", "#ba0517"),
}

CSS = f"""
.orchlab-app {{ font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
  font-size: 13px; color: {INK}; max-width: 1500px; }}
.orchlab-app .widget-html-content, .orchlab-app .widget-label {{ font-size: 13px; }}
.orchlab-app textarea, .orchlab-app input {{ font-family: inherit; }}
.orchlab-app .widget-checkbox label {{ font-weight: 600; font-size: 12px; }}
.orchlab-header {{ background: linear-gradient(90deg, #032d60, {BLUE}); color: white;
  border-radius: 8px; padding: 6px 14px; margin-bottom: 8px; align-items: center; }}
.orchlab-header .widget-html-content {{ color: white; }}
.orchlab-header .widget-label {{ color: white; }}
.orchlab-title {{ font-size: 19px; font-weight: 650; letter-spacing: .2px; }}
.orchlab-subtitle {{ font-size: 12px; opacity: .85; margin-left: 10px; }}
.orchlab-card {{ border: 1px solid {LINE}; border-radius: 8px; background: #fff;
  padding: 10px 12px; margin: 0 0 10px 0; box-shadow: 0 2px 2px rgba(0,0,0,.05); }}
.orchlab-card-title {{ font-size: 14px; font-weight: 650; margin: 0 0 4px 0; }}
.orchlab-muted {{ color: {GREY}; font-size: 12px; }}
.orchlab-message {{ padding: 7px 12px; border-radius: 6px; margin: 0 0 8px 0; line-height: 1.45; }}
.orchlab-message-info {{ background: #f3f3f3; border-left: 4px solid #c9c9c9; }}
.orchlab-message-success {{ background: #eaf7ee; border-left: 4px solid #2e844a; }}
.orchlab-message-warning {{ background: #fff8e6; border-left: 4px solid #dd7a01; }}
.orchlab-message-error {{ background: #fef1ee; border-left: 4px solid #ba0517; }}
.orchlab-table-head {{ border-bottom: 1px solid {LINE}; margin-bottom: 2px; }}
.orchlab-app .orchlab-sort.jupyter-button {{ background: none; border: none; box-shadow: none;
  font-weight: 650; color: {GREY}; text-align: left; padding: 0 4px; font-size: 12px;
  margin: 0; }}
.orchlab-app .orchlab-sort.jupyter-button:hover {{ color: {BLUE}; }}
.orchlab-row {{ border-bottom: 1px solid #f0f0f0; align-items: center; }}
.orchlab-row:hover {{ background: #f7fbff; }}
.orchlab-row-selected {{ background: #eef4ff; }}
.orchlab-app .orchlab-link.jupyter-button {{ background: none; border: none; box-shadow: none;
  color: {BLUE}; text-align: left; padding: 0 4px; font-weight: 600; overflow: hidden; margin: 0;
  text-overflow: ellipsis; }}
.orchlab-app .orchlab-link.jupyter-button:hover {{ text-decoration: underline; }}
.orchlab-cells {{ display: flex; align-items: center; white-space: nowrap; }}
.orchlab-cells > span {{ display: inline-block; overflow: hidden; text-overflow: ellipsis;
  padding: 0 4px; box-sizing: border-box; }}
.orchlab-field {{ margin: 0 0 8px 0; }}
.orchlab-field-label {{ font-weight: 600; font-size: 12px; }}
.orchlab-required {{ color: #ba0517; font-weight: 700; }}
.orchlab-hint {{ color: {GREY}; font-size: 11px; line-height: 1.3; }}
.orchlab-error {{ color: #ba0517; font-size: 12px; font-weight: 600; line-height: 1.3; }}
.orchlab-invalid input, .orchlab-invalid textarea, .orchlab-invalid select {{
  border-color: #ba0517 !important; box-shadow: 0 0 0 1px #ba0517 inset; }}
.orchlab-record table, .orchlab-timeline table {{ border-collapse: collapse; width: 100%; }}
.orchlab-record td, .orchlab-timeline td, .orchlab-timeline th {{ padding: 2px 8px 2px 0;
  vertical-align: top; border-bottom: 1px solid #f3f3f3; }}
.orchlab-record td:first-child {{ color: {GREY}; width: 40%; }}
.orchlab-timeline th {{ text-align: left; color: {GREY}; font-weight: 600; }}
.orchlab-timeline {{ max-height: 320px; overflow: auto; }}
.orchlab-diagram {{ text-align: center; }}
.orchlab-diagram svg {{ max-width: 100%; height: auto; }}
.orchlab-badge {{ display: inline-block; padding: 0 8px; border-radius: 10px; font-size: 11px;
  font-weight: 650; line-height: 18px; }}
.orchlab-code {{ font-family: "DejaVu Sans Mono", Menlo, monospace; font-size: 12px; }}
.orchlab-caret {{ color: #ba0517; font-weight: 700; }}
.orchlab-busy {{ visibility: hidden; }}
.orchlab-busy-on {{ animation: orchlab-appear 0s linear .25s forwards; }}
@keyframes orchlab-appear {{ to {{ visibility: visible; }} }}
.orchlab-spinner {{ display: inline-block; width: 14px; height: 14px; margin-right: 6px;
  border: 2px solid #c9c9c9; border-top-color: {BLUE}; border-radius: 50%;
  vertical-align: -3px; animation: orchlab-spin .8s linear infinite; }}
@keyframes orchlab-spin {{ to {{ transform: rotate(360deg); }} }}
.orchlab-check {{ border: 1px solid {LINE}; border-radius: 6px; padding: 6px 10px;
  margin: 0 0 8px 0; background: #fafaf9; }}
.orchlab-check table {{ border-collapse: collapse; margin: 4px 0; }}
.orchlab-check td, .orchlab-check th {{ padding: 1px 10px 1px 0; text-align: left;
  vertical-align: top; }}
.orchlab-check th {{ color: {GREY}; font-weight: 600; font-size: 12px; }}
.orchlab-confirm {{ background: #fff8e6; border: 1px solid #f4bc25; border-radius: 6px;
  padding: 4px 8px; align-items: center; }}
"""
CSS += "".join(
    f".orchlab-status-{s} {{ background: {bg}; color: {fg}; }}\n"
    for s, (bg, fg) in STATUS_COLOURS.items()
)


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def badge(status: str | None) -> str:
    if not status:
        return ""
    return f'<span class="orchlab-badge orchlab-status-{esc(status)}">{esc(status)}</span>'


def style_sheet() -> w.HTML:
    return w.HTML(f"<style>{CSS}</style>", layout=w.Layout(height="0px", margin="0"))


def message_html(message: Message) -> str:
    """A message as the page shows it (empty when there is nothing to say)."""
    if not message.text and not message.lines:
        return ""
    lines = "".join(f"<div>{esc(line)}</div>" for line in message.lines)
    return (
        f'<div class="orchlab-message orchlab-message-{esc(message.kind)}">'
        f"<b>{esc(message.text)}</b>{lines}</div>"
    )


def header(title: str, *right: w.Widget, subtitle: str = "") -> w.HBox:
    text = w.HTML(
        f'<span class="orchlab-title">{esc(title)}</span>'
        + (f'<span class="orchlab-subtitle">{esc(subtitle)}</span>' if subtitle else "")
    )
    box = w.HBox(
        [text, w.HBox(list(right), layout=w.Layout(margin="0 0 0 auto", align_items="center"))]
    )
    box.add_class("orchlab-header")
    return box


class Busy:
    """A spinner that shows only if the work lasts longer than a moment (a quarter second).

    Use as a context manager around a call; the browser gets the "on" state at once and
    shows it after the delay, unless "off" arrives first.
    """

    def __init__(self, text: str = "Working…") -> None:
        self.widget = w.HTML(f'<span class="orchlab-spinner"></span>{esc(text)}')
        self.widget.add_class("orchlab-busy")

    def __enter__(self) -> None:
        self.widget.add_class("orchlab-busy-on")

    def __exit__(self, *exc: object) -> None:
        self.widget.remove_class("orchlab-busy-on")
