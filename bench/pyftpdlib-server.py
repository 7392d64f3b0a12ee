"""pyftpdlib as bench/ftp's second peer: one user whose password is checked against the
same crypt(3) hash appserver reads (through libcrypt), full rights in ROOT.

    pyftpdlib-server.py PORT ROOT USER HASH
"""
import ctypes, ctypes.util, sys
from pyftpdlib.authorizers import AuthenticationFailed, DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import FTPServer

port, root, user, stored = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
libcrypt = ctypes.CDLL(ctypes.util.find_library("crypt") or "libcrypt.so.1")
libcrypt.crypt.restype = ctypes.c_char_p
libcrypt.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]


class CryptAuthorizer(DummyAuthorizer):
    def validate_authentication(self, username, password, handler):
        hashed = libcrypt.crypt(password.encode(), stored.encode())
        if username != user or hashed is None or hashed.decode() != stored:
            raise AuthenticationFailed("Authentication failed.")


authorizer = CryptAuthorizer()
authorizer.add_user(user, "", root, perm="elradfmwMT")
FTPHandler.authorizer = authorizer
server = FTPServer(("127.0.0.1", int(port)), FTPHandler)
server.max_cons = 0
server.serve_forever()
