"""OSC control: UDP datagrams under `/livedream/` decoded into commands, with echo replies.

Three layers, along python-osc's seams: `wire` (the strict OSC 1.0 parser and the encoder),
`addresses` (the address table as data - `Route` entries from `route`, argument checks from
`arguments` - from which decode, echo, the `/state` dump, docs and OSCQuery all come) and
`server` (the handler and the UDP server thread). The table is rendered in
docs/osc.md.
"""

from livedream.control.osc.addresses import (
    ADDRESSES,
    ROUTES,
    decode,
    dump_messages,
    echo_messages,
    markdown_table,
)
from livedream.control.osc.arguments import MAX_LIST, MAX_NAME, PREFIX
from livedream.control.osc.route import Route
from livedream.control.osc.server import Address, OscControl, OscHandler
from livedream.control.osc.wire import (
    MAX_BUNDLE_DEPTH,
    MAX_DATAGRAM,
    Message,
    OscError,
    build_message,
    parse_datagram,
    parse_message,
)

__all__ = [
    "ADDRESSES", "MAX_BUNDLE_DEPTH", "MAX_DATAGRAM", "MAX_LIST", "MAX_NAME", "PREFIX", "ROUTES",
    "Address", "Message", "OscControl", "OscError", "OscHandler", "Route", "build_message",
    "decode", "dump_messages", "echo_messages", "markdown_table", "parse_datagram",
    "parse_message",
]
