import ServerCore

/// Directory listings as FTP clients parse them: LIST in `ls -l` form, NLST names, and
/// RFC 3659 MLSD/MLST facts.
public enum ListingFormat {
    /// `-rw-r--r-- 1 ftp ftp 1234 Nov 25 01:02 name`, or `Nov 25  2025` past six months.
    public static func list(_ entries: [VirtualFS.Entry], now: Int) -> [UInt8] {
        var out = ""
        for entry in entries {
            out += permissions(entry) + " 1 ftp ftp " + String(entry.size).leftPadded(12) + " " + date(entry.modified, now: now)
                + " " + entry.name + "\r\n"
        }
        return Array(out.utf8)
    }

    public static func names(_ entries: [VirtualFS.Entry]) -> [UInt8] {
        Array(entries.map { $0.name + "\r\n" }.joined().utf8)
    }

    /// `type=file;size=1234;modify=20261125010203;perm=adfrw;unique=803U1a2b; name`
    public static func facts(_ entry: VirtualFS.Entry, name: String? = nil, readOnly: Bool) -> String {
        let perm: String
        if entry.isDirectory {
            perm = readOnly ? "el" : "cdeflmp"
        } else {
            perm = readOnly ? "r" : "adfrw"
        }
        var facts = "type=\(entry.isDirectory ? "dir" : "file");"
        if !entry.isDirectory { facts += "size=\(entry.size);" }
        return facts + "modify=\(timestamp(entry.modified));perm=\(perm);unique=\(entry.unique); \(name ?? entry.name)"
    }

    public static func mlsd(_ entries: [VirtualFS.Entry], readOnly: Bool) -> [UInt8] {
        Array(entries.map { facts($0, readOnly: readOnly) + "\r\n" }.joined().utf8)
    }

    /// `YYYYMMDDHHMMSS` in UTC (RFC 3659 2.3), as MDTM and `modify` give it.
    public static func timestamp(_ seconds: Int) -> String {
        UTCTime.format(seconds, "%Y%m%d%H%M%S")
    }

    static func date(_ seconds: Int, now: Int) -> String {
        let sixMonths = 182 * 86_400
        return abs(now - seconds) < sixMonths ? UTCTime.format(seconds, "%b %d %H:%M") : UTCTime.format(seconds, "%b %d  %Y")
    }

    private static func permissions(_ entry: VirtualFS.Entry) -> String {
        var out = entry.isDirectory ? "d" : "-"
        let bits: [(UInt32, Character)] = [(0o400, "r"), (0o200, "w"), (0o100, "x"), (0o040, "r"), (0o020, "w"), (0o010, "x"),
                                           (0o004, "r"), (0o002, "w"), (0o001, "x")]
        for (bit, letter) in bits { out.append(entry.mode & bit != 0 ? letter : "-") }
        return out
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
