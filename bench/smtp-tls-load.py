#!/usr/bin/env python3
"""STARTTLS load for bench/smtp: MESSAGES messages of about SIZE bytes over SESSIONS
concurrent clients, each message its own connection (EHLO, STARTTLS, EHLO, MAIL, RCPT,
DATA, QUIT), as smtp-source sends them without TLS. Both servers have the same
certificate, which is not verified. Prints how many messages were accepted."""
import smtplib
import ssl
import sys
import threading

port, messages, sessions, size = (int(arg) for arg in sys.argv[1:5])
context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
body = "Subject: bench\r\n\r\n" + ("x" * 76 + "\r\n") * max(1, size // 78)
lock = threading.Lock()
left, accepted = messages, 0


def send():
    global left, accepted
    while True:
        with lock:
            if left == 0:
                return
            left -= 1
        try:
            with smtplib.SMTP("127.0.0.1", port, local_hostname="load.test", timeout=30) as client:
                client.starttls(context=context)
                client.sendmail("bench@sender.test", ["someone@example.test"], body)
            with lock:
                accepted += 1
        except (OSError, smtplib.SMTPException) as error:
            print(error, file=sys.stderr)


threads = [threading.Thread(target=send) for _ in range(sessions)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(accepted)
