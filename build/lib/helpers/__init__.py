"""Utilities shared by the course notebooks: data, plots, checks and reproducibility.

Import the modules you need::

    from helpers import data, plots, checks
    helpers.set_seed(0)

``helpers.pretrained`` holds week 4's shipped base network and the script that trains it.
"""

from helpers import checks, data, plots, pretrained
from helpers.repro import set_seed

__all__ = ["checks", "data", "plots", "pretrained", "set_seed"]
__version__ = "0.1.0"
