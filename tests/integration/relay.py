# SPDX-License-Identifier: GPL-3.0-or-later
"""A TCP relay from 127.0.0.1 on the controller to a port inside a container that has no
network: each connection is a `docker exec -i CONTAINER python3` that pipes its stdin and stdout
to the port on the container's loopback. TLS runs end to end through it, so the client checks
the server's certificate as a remote user would."""

from __future__ import annotations

import socket
import subprocess
import threading

# Run inside the container by its python3: stdin -> the port, the port -> stdout.
_INNER = r"""
import os, socket, sys, threading
sock = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
def up():
    while True:
        data = os.read(0, 65536)
        if not data:
            sock.shutdown(socket.SHUT_WR)
            return
        sock.sendall(data)
threading.Thread(target=up, daemon=True).start()
while True:
    data = sock.recv(65536)
    if not data:
        break
    view = memoryview(data)
    while view:
        view = view[os.write(1, view):]
"""


class DockerRelay:
    def __init__(self, container: str, port: int):
        self.container, self.target = container, port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _addr = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket):
        proc = subprocess.Popen(["docker", "exec", "-i", self.container, "python3", "-c", _INNER, str(self.target)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0)

        def down():
            # The client may hang up first (a closed session): then nothing is left to send.
            try:
                while True:
                    data = proc.stdout.read(65536)
                    if not data:
                        break
                    conn.sendall(data)
                conn.shutdown(socket.SHUT_WR)
            except OSError:
                pass

        reader = threading.Thread(target=down, daemon=True)
        reader.start()
        try:
            while True:
                data = conn.recv(65536)
                if not data:
                    break
                proc.stdin.write(data)
        except OSError:
            pass
        finally:
            try:
                proc.stdin.close()
            except OSError:
                pass
            reader.join(timeout=30)
            proc.kill()
            proc.wait()
            conn.close()

    def close(self):
        self.listener.close()
