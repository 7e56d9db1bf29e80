"""Argument types shared by the ``flowphase`` subcommands."""

import argparse
import math


def finite_number(text):
    """Parse ``text`` as a finite float, or raise ``argparse.ArgumentTypeError``."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"invalid number {text!r}: must be finite")
    return value
