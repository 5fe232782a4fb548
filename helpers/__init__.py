"""Utilities shared by the course notebooks: data, plots, checks and reproducibility.

Import the modules you need::

    from helpers import data, plots, checks
    helpers.set_seed(0)
"""

from helpers import checks, data, plots
from helpers.repro import set_seed

__all__ = ["checks", "data", "plots", "set_seed"]
__version__ = "0.1.0"
