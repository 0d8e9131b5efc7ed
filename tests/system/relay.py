#!/usr/bin/env python3
"""A migration relay for exec: URIs: connects to 127.0.0.1:PORT and copies
its stdin there. With --both it also copies what comes back to its stdout
(the return path, as `exec:ssh host nc …` gives); without, the way back is
dropped, as a one-way pipe drops it.

    relay.py PORT [--both]
"""
import os
import socket
import sys
import threading


def main():
    port = int(sys.argv[1])
    both = "--both" in sys.argv[2:]
    sock = socket.create_connection(("127.0.0.1", port))

    def back():
        while True:
            data = sock.recv(65536)
            if not data:
                break
            if both:
                os.write(1, data)
        if both:
            os.close(1)

    t = threading.Thread(target=back)
    t.start()
    while True:
        data = os.read(0, 65536)
        if not data:
            break
        sock.sendall(data)
    sock.shutdown(socket.SHUT_WR)
    t.join()


if __name__ == "__main__":
    main()
