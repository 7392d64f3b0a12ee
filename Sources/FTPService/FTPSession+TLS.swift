import ServerCore

/// RFC 4217 in the control conversation: AUTH TLS, PBSZ, PROT, CCC, and what
/// `--ftp-tls required` refuses in clear. Replies as vsftpd words them.
extension FTPSession {
    public enum TLSPolicy: String, Sendable {
        /// USER (but anonymous) before AUTH TLS gets 530, transfers over clear data connections 521.
        case required
        case optional
        /// No AUTH TLS: its verbs are unknown.
        case off
    }

    /// A refusal of `verb` for want of protection: under `required`, a transfer over a
    /// clear data connection (anonymous ones excepted, as USER anonymous is).
    func protectionRefusal(_ verb: FTPCommand) -> FTPReply? {
        guard tlsPolicy == .required, !anonymous, !protectsData, FTPCommand.transfers.contains(verb) else { return nil }
        return .dataMustBeEncrypted
    }

    mutating func security(_ verb: FTPCommand, _ argument: String) -> [Action] {
        let upper = argument.uppercased()
        switch verb {
        case .auth:
            guard ["TLS", "TLS-C", "SSL", "TLS-P"].contains(upper) else { return [.reply(FTPReply(504, "Unknown AUTH type"))] }
            guard !controlProtected else { return [.reply(FTPReply(503, "Already using TLS"))] }
            // A login over plaintext would have sent its password in clear: it comes after.
            guard !loggedIn else { return [.reply(FTPReply(503, "AUTH TLS must come before login"))] }
            login = .none
            controlProtected = true
            // The old drafts' names protect data connections too (vsftpd does the same).
            if upper == "SSL" || upper == "TLS-P" {
                bufferSizeSet = true
                protectsData = true
            }
            return [.reply(FTPReply(234, "Proceed with negotiation")), .startTLS]
        case .pbsz:
            guard controlProtected else { return [.reply(FTPReply(503, "PBSZ needs a secure connection"))] }
            // Any size is answered with 0: TLS frames its own records (RFC 4217 8).
            guard StrictNumber.decimal(argument, as: UInt32.self) != nil else { return [.reply(.syntax)] }
            bufferSizeSet = true
            return [.reply(FTPReply(200, "PBSZ=0"))]
        case .prot:
            guard controlProtected else { return [.reply(FTPReply(503, "PROT needs a secure connection"))] }
            guard bufferSizeSet else { return [.reply(FTPReply(503, "PBSZ must come first"))] }
            switch upper {
            case "C":
                protectsData = false
                return [.reply(FTPReply(200, "PROT now Clear"))]
            case "P":
                protectsData = true
                return [.reply(FTPReply(200, "PROT now Private"))]
            case "S", "E": return [.reply(FTPReply(536, "PROT not supported"))]
            default: return [.reply(FTPReply(504, "PROT not recognized"))]
            }
        default:
            // CCC would put the rest of the conversation in clear, where it can be tampered with.
            guard controlProtected else { return [.reply(FTPReply(533, "CCC needs a secure connection"))] }
            return [.reply(FTPReply(534, "CCC refused: the control connection stays encrypted"))]
        }
    }
}
