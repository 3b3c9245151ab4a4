"""Outputs: one stream of what the audience sees, feeding the window, NDI, a virtual camera and
the recorder (`compositor` composes it on the device, `stream` reads it back once per frame and
fans it out to the sinks; `ndi` and `virtualcam` are optional sinks / sources)."""
