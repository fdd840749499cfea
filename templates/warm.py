"""Run once while the Pyodide memory snapshot is made: import what the page needs and warm pycore's
caches with the default scenario, so the page starts with all of it done."""
import sys

sys.path.insert(0, "/home/pyodide")

from pycore import charts, report, urlstate, view  # noqa: E402,F401

e, errors = urlstate.estimate_from_fields(dict(urlstate.DEFAULTS))
view.slots(view.estimate_view(e))

from pycore import training  # noqa: E402,F401  (the page's Training mode)
