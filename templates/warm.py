"""Run once while the Pyodide memory snapshot is made: import every pycore module and the page's Python
(templates/app.py, `app`), and warm pycore's caches with the default scenario, so the page starts with all of
it done. The snapshot holds Python's memory, not its files: a module first imported after the start would need
pycore's files, which the page does not download. The command line's own modules are left out (argparse and
the rest would add 0.9 MB to the compressed snapshot)."""
import importlib
import pkgutil
import sys

sys.path.insert(0, "/home/pyodide")

import pycore  # noqa: E402

for module in pkgutil.walk_packages(pycore.__path__, "pycore."):
    if not module.name.endswith(("__main__", "cli")):  # pycore.cli, pycore.speed_cli: the command line only
        importlib.import_module(module.name)

import app  # noqa: E402,F401  (the page's Python: app.main starts it)
from pycore import urlstate, view  # noqa: E402

e, errors = urlstate.estimate_from_fields(dict(urlstate.DEFAULTS))
view.slots(view.estimate_view(e))
