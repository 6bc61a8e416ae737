"""Debian's Chromium as every browser test launches it (no browser download).

The flags keep headless Chromium off the network it cannot reach here (see NOTES.md):
``--disable-background-networking`` and friends stop its own update, sync and
component requests; ``--no-sandbox`` because the tests run as root.
"""

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
