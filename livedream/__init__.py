"""livedream: a live VJ DeepDream visualizer on a feedback buffer."""

__version__ = "0.1.0"

import os as _os

# The dream's OpenMP workers share the CPUs with the recorder, display and OSC threads (and, on
# a shared machine, other processes): idle workers sleep instead of spinning. Only effective
# before torch is imported; an explicit OMP_WAIT_POLICY wins. Measured in bench/RESULTS.md.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# numpy's and scipy's OpenBLAS only ever see 3x3 motion matrices here, but their worker threads
# spin after each call: scipy's took 0.8 of a core at 60 output fps (bench row 11). One thread
# (no workers), set before numpy loads; an explicit OPENBLAS_NUM_THREADS wins.
_os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
