"""Sphinx extension: drop repeated <script> entries from each page.

With Jupyter Book 1.0 and sphinx-thebe 0.3.1 the inline thebe configuration
(``const THEBE_JS_URL = ...``) is added to every page twice; the second copy
throws "Identifier 'THEBE_JS_URL' has already been declared" in the browser
console.  Keeping the first of the entries with the same file and attributes
(whatever their priority) fixes it.
"""

from __future__ import annotations


def _dedupe(app, pagename, templatename, context, doctree):
    files = context.get("script_files")
    if not files:
        return
    seen, kept = set(), []
    for js in files:
        # same file and attributes (an inline script's body is an attribute); the priority may differ
        # (an inline script's filename is None or "" depending on who added it)
        key = (getattr(js, "filename", str(js)) or "",
               tuple(sorted((k, str(v)) for k, v in getattr(js, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            kept.append(js)
    context["script_files"] = kept


def setup(app):
    app.connect("html-page-context", _dedupe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
