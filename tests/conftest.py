"""Test-session settings shared by every test module."""

import os

# The symbolic checks must derive their results in this process, not load a
# derivation that an earlier run left in the disk cache.
os.environ["FLOWPHASE_DERIVATION_CACHE"] = "off"
