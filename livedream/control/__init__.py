"""Control surfaces (OSC, MIDI, keyboard): decode input into `livedream.state` commands.

Adapters only put commands on the render loop's CommandQueue; they never touch the renderer.
Each accepted command carries a reply callback so the adapter can echo the resulting value back
to the controller (OSC sender, MIDI LED rings). Heavy imports (python-osc, mido) happen only when
the submodule is imported.
"""

from livedream.control.keys import DEFAULT_TRANSFORM_KEYS, KeyMap, key_command
from livedream.control.ratelimit import RateLimitedLog

__all__ = ["DEFAULT_TRANSFORM_KEYS", "KeyMap", "RateLimitedLog", "key_command"]
