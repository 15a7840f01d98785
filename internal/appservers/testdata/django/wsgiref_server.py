"""Serves the Django app of app.py with the standard library's wsgiref.

Usage: python3 wsgiref_server.py PORT
"""
import sys
from wsgiref.simple_server import WSGIRequestHandler, make_server

from app import wsgi


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


make_server("127.0.0.1", int(sys.argv[1]), wsgi, handler_class=QuietHandler).serve_forever()
