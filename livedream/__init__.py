"""livedream: a live VJ DeepDream visualizer on a feedback buffer."""

__version__ = "0.1.0"

import os as _os

# The dream's OpenMP workers share the CPUs with the recorder, display and OSC threads (and, on
# a shared machine, other processes): idle workers sleep instead of spinning. Only effective
# before torch is imported; an explicit OMP_WAIT_POLICY wins. Measured in bench/RESULTS.md.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
