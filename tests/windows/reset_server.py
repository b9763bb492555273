#!/usr/bin/env python3
"""Test helper for the Wine run (ctest wine.reset): listens on 127.0.0.1, prints its port,
accepts one connection, reads a little of the request and, half a second later (the client
then waits in recv: Wine reports a reset that came before it as an end of stream), resets the
connection (SO_LINGER 0, then close: RST, not FIN). Gives up after 60 seconds without a client."""
import socket
import struct
import time

with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    s.settimeout(60)
    print(s.getsockname()[1], flush=True)
    c, _ = s.accept()
    c.settimeout(10)
    c.recv(16)
    time.sleep(0.5)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
