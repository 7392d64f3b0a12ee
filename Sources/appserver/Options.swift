import ArgumentParser

/// The command line. Every flag has a config-file key of the same name; a flag wins.
struct Options: ParsableArguments {
    @Option(help: "Configuration file (default: conf/appserver.conf if it exists).")
    var config: String?

    @Option(help: ArgumentHelp("Services to run, comma-separated: http, https, dns, smtp, ftp (default: all: http,https,dns,smtp,ftp).", valueName: "list"))
    var services: [String] = []

    @Option(help: ArgumentHelp("Address to listen on, IPv4 or IPv6; repeat for several (default: 0.0.0.0 and ::).", valueName: "addr"))
    var listen: [String] = []

    @Option(help: ArgumentHelp("HTTP port (default: 80; 0 picks a free one).", valueName: "n"))
    var httpPort: String?

    @Option(help: ArgumentHelp("Folder of static files to serve (default: www).", valueName: "dir"))
    var www: String?

    @Option(help: ArgumentHelp("HTTPS port, the same site over TLS (default: 443; 0 picks a free one).", valueName: "n"))
    var httpsPort: String?

    @Option(help: ArgumentHelp("Certificate for TLS, PEM with its chain; repeat with --tls-key for several, SNI picks, the first is the default (default: a self-signed certificate made in DATA/tls/).", valueName: "file"))
    var tlsCert: [String] = []

    @Option(help: ArgumentHelp("The private key of each --tls-cert, PEM, in the same order (default: DATA/tls/key.pem with the made certificate).", valueName: "file"))
    var tlsKey: [String] = []

    @Flag(help: "Answer plain HTTP requests with a 301 to https (default: off; config key: http-redirect = yes).")
    var httpRedirect = false

    @Option(help: ArgumentHelp("Strict-Transport-Security max-age on HTTPS responses, in seconds (default: none).", valueName: "seconds"))
    var hsts: String?

    @Option(help: ArgumentHelp("DNS port, UDP and TCP (default: 53; 0 picks a free one).", valueName: "n"))
    var dnsPort: String?

    @Option(help: ArgumentHelp("Folder of zone files, one zone per *.zone file (default: conf/zones).", valueName: "dir"))
    var zones: String?

    @Option(help: ArgumentHelp("DNS over TLS port, ALPN dot, with the --tls-cert certificate (default: 853; 0 picks a free one; off: none).", valueName: "n"))
    var dotPort: String?

    @Option(help: ArgumentHelp("Upstream resolver for names outside our zones, IP[:PORT], or tls://IP[:PORT]#NAME for DNS over TLS verified for NAME; repeat for several (default: none).", valueName: "addr"))
    var upstream: [String] = []

    @Option(help: ArgumentHelp("CA certificates (PEM) that tls:// upstreams are verified against (default: the system's CA store).", valueName: "file"))
    var upstreamCa: String?

    @Option(help: ArgumentHelp("Clients allowed to use the forwarder, as CIDR; repeat for several (default: loopback and private ranges).", valueName: "cidr"))
    var allowRecursion: [String] = []

    @Option(help: ArgumentHelp("Clients allowed to transfer our zones (AXFR/IXFR), as CIDR; repeat for several (default: none).", valueName: "cidr"))
    var dnsTransferAllow: [String] = []

    @Option(help: ArgumentHelp("TSIG keys file, BIND/NSD form: key \"name\" { algorithm hmac-sha256; secret \"...\"; }; (default: none).", valueName: "file"))
    var dnsTsigKeys: String?

    @Option(help: ArgumentHelp("TSIG key that zone transfers must be signed with, from --dns-tsig-keys (default: none).", valueName: "name"))
    var dnsTransferKey: String?

    @Option(help: ArgumentHelp("Also send NOTIFY for our zones to IP[:PORT] (beside their NS hosts); repeat for several (default: none).", valueName: "addr"))
    var dnsNotify: [String] = []

    @Option(help: ArgumentHelp("Be a secondary for ZONE, copied from PRIMARY[:PORT], optionally signed: 'ZONE=PRIMARY key NAME'; repeat for several (default: none).", valueName: "zone=addr"))
    var dnsSecondary: [String] = []

    @Option(help: ArgumentHelp("SMTP port (default: 25; 0 picks a free one).", valueName: "n"))
    var smtpPort: String?

    @Option(help: ArgumentHelp("STARTTLS on the SMTP port: optional (offered), required (MAIL refused before it; not for a public MX, RFC 3207), or off (default: optional).", valueName: "mode"))
    var smtpTls: String?

    @Option(help: ArgumentHelp("SMTPS port, implicit TLS from the first byte (RFC 8314), usually 465 (default: off; 0 picks a free one).", valueName: "n"))
    var smtpsPort: String?

    @Option(help: ArgumentHelp("Folder for received mail (DIR/mail/<domain>/<user>/, Maildir) and spool files (default: data).", valueName: "dir"))
    var data: String?

    @Option(help: ArgumentHelp("Domain to accept mail for; repeat for several. Mail for any other domain is refused, never relayed (default: localhost).", valueName: "domain"))
    var mailDomain: [String] = []

    @Option(help: ArgumentHelp("FTP control port (default: 21; 0 picks a free one).", valueName: "n"))
    var ftpPort: String?

    @Option(help: ArgumentHelp("Folder FTP users see as / and cannot leave (default: DATA/ftp; created if missing).", valueName: "dir"))
    var ftpRoot: String?

    @Option(help: ArgumentHelp("FTP users file, name:crypt-hash lines (default: conf/ftp-users; see 'appserver passwd').", valueName: "file"))
    var ftpUsers: String?

    @Flag(help: "Allow anonymous FTP logins, read-only (default: off; config key: ftp-anonymous = yes).")
    var ftpAnonymous = false

    @Option(help: ArgumentHelp("Ports for passive data connections, MIN-MAX (default: any free port).", valueName: "range"))
    var ftpPassivePorts: String?

    @Option(help: ArgumentHelp("IPv4 address PASV announces, for a server behind NAT (default: the control connection's local address).", valueName: "addr"))
    var ftpPassiveAddress: String?

    @Option(name: .customLong("ftp-tls"), help: ArgumentHelp("FTP over TLS (AUTH TLS, PROT P): required refuses USER before AUTH TLS and clear transfers, but for anonymous (default: optional).", valueName: "required|optional|off"))
    var ftpTLS: String?

    @Option(name: .customLong("ftp-tls-reuse"), help: ArgumentHelp("Protected data connections must resume the control connection's TLS session; no for clients that cannot (default: yes).", valueName: "yes|no"))
    var ftpTLSReuse: String?

    @Option(help: ArgumentHelp("Implicit FTPS port, TLS from the first byte (default: none; 0 picks a free one).", valueName: "n"))
    var ftpsPort: String?

    @Option(help: ArgumentHelp("When started as root, run as this user once ports are bound (default: nobody).", valueName: "name"))
    var user: String?

    @Option(help: ArgumentHelp("When started as root, the group that may read the data folders (default: the group of the user who ran sudo, else the run user's).", valueName: "name"))
    var group: String?

    @Option(help: ArgumentHelp("Worker queues serving connections (default: one per core).", valueName: "n"))
    var workers: String?

    @Option(help: ArgumentHelp("Open connections at most; more are turned away busy (default: 10000).", valueName: "n"))
    var maxConnections: String?

    @Option(help: ArgumentHelp("Connections from one client address to one service at most; more get the busy reply (default: 50).", valueName: "n"))
    var maxPerAddress: String?

    @Option(help: ArgumentHelp("Client addresses the per-address cap leaves alone, as CIDR; repeat for several, or none (default: loopback (127.0.0.0/8, ::1)).", valueName: "cidr"))
    var perAddressExempt: [String] = []

    @Option(help: ArgumentHelp("trace, debug, info (access lines), notice, warning, error or critical (default: info).", valueName: "level"))
    var logLevel: String?

    @Option(help: ArgumentHelp("Admin listener (metrics, health, console), ADDR:PORT, or off; HTTPS beyond loopback (default: 127.0.0.1:9180).", valueName: "addr"))
    var adminListen: String?

    @Option(help: ArgumentHelp("Admin user as name:crypt-hash, checked by basic auth; needed beyond loopback (default: none).", valueName: "user"))
    var adminUser: String?

    @Option(help: ArgumentHelp("Write access lines and notices to this file, reopened on SIGUSR1 (default: standard output).", valueName: "file"))
    var logFile: String?

    @Option(help: ArgumentHelp("Log line format: text or json (default: text).", valueName: "format"))
    var logFormat: String?

    @Option(help: ArgumentHelp("Write the server's process id to this file once it serves, removed at exit (default: none).", valueName: "file"))
    var pidFile: String?

    @Flag(help: "Serve every service in this one process, without the supervisor, for debugging: a crash then stops them all (default: off; config key: single-process = yes).")
    var singleProcess = false
}
