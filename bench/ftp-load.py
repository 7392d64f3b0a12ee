"""The FTP load for bench/ftp, with Python's ftplib (passive mode, binary).

    ftp-load.py PORT USER PASSWORD download FILE COUNT     -> MB/s over COUNT downloads
    ftp-load.py PORT USER PASSWORD upload SIZE COUNT       -> MB/s over COUNT uploads of SIZE bytes
    ftp-load.py PORT USER PASSWORD sessions FILE SECONDS   -> sessions/s of 20 clients, each
                                                               logging in, fetching FILE, quitting
A CA file after these: FTP over TLS (AUTH TLS, PROT P), each data connection resuming the
control connection's TLS session, as servers that require it (vsftpd's default) want;
with FTP_LOAD_SHOW_TLS set, the protocol and cipher agreed go to stderr.
Data is moved in 1 MiB blocks with recv_into/sendall so that the client is not the limit.
"""
import ftplib, os, ssl, sys, threading, time

port, user, password, mode, what, amount = sys.argv[1:7]
cafile = sys.argv[7] if len(sys.argv) > 7 else None
port = int(port)
BLOCK = 1 << 20


class ResumingFTP_TLS(ftplib.FTP_TLS):
    """ftplib's FTP_TLS, but its data connections resume the control connection's session
    (ftplib's own start a new one, which servers requiring reuse refuse)."""

    def ntransfercmd(self, cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        if self._prot_p:
            conn = self.context.wrap_socket(conn, server_hostname=self.host, session=self.sock.session)
        return conn, size


def login():
    ftp = ResumingFTP_TLS(context=ssl.create_default_context(cafile=cafile)) if cafile else ftplib.FTP()
    ftp.connect("127.0.0.1", port, timeout=30)
    ftp.login(user, password)
    if cafile:
        ftp.prot_p()
        if os.environ.get("FTP_LOAD_SHOW_TLS"):
            print("%s %s" % (ftp.sock.version(), ftp.sock.cipher()[0]), file=sys.stderr)
    ftp.voidcmd("TYPE I")
    return ftp


def download(ftp, name):
    buffer = bytearray(BLOCK)
    view = memoryview(buffer)
    total = 0
    with ftp.transfercmd("RETR " + name) as conn:
        while True:
            n = conn.recv_into(view)
            if not n:
                break
            total += n
    ftp.voidresp()
    return total


def upload(ftp, name, size):
    block = b"u" * BLOCK
    sent = 0
    with ftp.transfercmd("STOR " + name) as conn:
        while sent < size:
            piece = block[: min(BLOCK, size - sent)]
            conn.sendall(piece)
            sent += len(piece)
    ftp.voidresp()
    return sent


if mode in ("download", "upload"):
    ftp = login()
    start = time.monotonic()
    moved = 0
    for i in range(int(amount)):
        moved += download(ftp, what) if mode == "download" else upload(ftp, "up%d.bin" % i, int(what))
    elapsed = time.monotonic() - start
    ftp.quit()
    print("%.1f" % (moved / elapsed / 1e6))
elif mode == "sessions":
    deadline = time.monotonic() + float(amount)
    done = [0]
    failed = [0]
    lock = threading.Lock()

    def client():
        while time.monotonic() < deadline:
            try:
                ftp = login()
                download(ftp, what)
                ftp.quit()
                with lock:
                    done[0] += 1
            except (OSError, ftplib.Error):
                with lock:
                    failed[0] += 1

    start = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failed[0]:
        print("%d sessions failed" % failed[0], file=sys.stderr)
    print("%.1f" % (done[0] / (time.monotonic() - start)))
