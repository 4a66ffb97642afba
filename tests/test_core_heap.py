"""The glibc heap setting: freed large blocks go back to the system instead of staying in a fragmented heap."""

import subprocess
import sys

import pytest

from hepml_nb.core import heap

_glibc = pytest.mark.skipif(heap._glibc() is None, reason="mallopt is glibc's")

#: a fresh process: raise glibc's dynamic threshold with one freed 20 MB block (blocks up to 32 MB raise it),
#: then leave 60 freed 4 MB blocks between small live ones (holes the heap cannot trim); prints the MiB left
_WORKLOAD = """
import sys, numpy as np, psutil
if sys.argv[1] == "limit":
    import hepml_nb.jets  # sets the threshold on import
before = psutil.Process().memory_info().rss
del_me = np.ones(20 * 2**20 // 8)
del del_me
big, small = [], []
for _ in range(60):
    big.append(np.ones(4 * 2**20 // 8))
    small.append(np.ones(64 * 2**10 // 8))
del big
print((psutil.Process().memory_info().rss - before) / 2**20)
"""


def _left_mib(mode: str) -> float:
    out = subprocess.run([sys.executable, "-c", _WORKLOAD, mode], capture_output=True, text=True, check=True)
    return float(out.stdout.split()[-1])


@_glibc
def test_limit_heap_growth_gives_freed_blocks_back():
    assert _left_mib("default") > 100  # without it: the 240 MB of freed blocks stay in the heap
    assert _left_mib("limit") < 30  # with it (importing hepml_nb.jets): only the small live blocks stay


@_glibc
def test_limit_heap_growth_reports_it_was_set():
    assert heap.limit_heap_growth() is True
