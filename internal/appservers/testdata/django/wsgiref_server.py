"""Serves the Django app of app.py with the standard library's wsgiref.

The request handler is wsgiref's own (it builds the WSGI environ from the
headers); the server handles each connection in a thread, with a listen
backlog deep enough for the tests' concurrent requests.

Usage: python3 wsgiref_server.py PORT
"""
import sys
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from app import wsgi


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


class ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 64


make_server("127.0.0.1", int(sys.argv[1]), wsgi, server_class=ThreadingServer, handler_class=QuietHandler).serve_forever()
