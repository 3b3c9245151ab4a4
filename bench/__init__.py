"""livedream's benchmark suite: `python -m bench` (or `make bench`) prints a table, writes JSON.

Rows (one module each): 1 `dream_rate`, 2 `conv_peak`, 3 `live_loop`, 4 `seed_loop`,
5 `control_latency`, 6 `display`, 7 `memory`. Results and the before/after of the optimisations
are recorded in bench/RESULTS.md.
"""

import os as _os

# Same OpenMP setting as `import livedream` makes, set here because bench imports torch first.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
