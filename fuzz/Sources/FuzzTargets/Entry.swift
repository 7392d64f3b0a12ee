/// One fuzz target: its name on the command line, and how to make its run. `prepare` is
/// called once, before libFuzzer starts, to set up what every run shares (a temporary
/// root, a loaded zone); the run it returns takes one input and traps on any finding.
public struct FuzzTarget: Sendable {
    public let name: String
    public let summary: String
    public let prepare: @Sendable () -> (UnsafeRawBufferPointer) -> Void
}

public enum FuzzTargets {
    public static let all: [FuzzTarget] = [
        HTTPRequestTarget.target, HTTPFieldsTarget.target, DNSMessageTarget.target, DNSResponderTarget.target,
        ZoneFileTarget.target, DNSTransferTarget.target, DNSSecondaryTarget.target, SMTPTarget.target, FTPTarget.target, ConfigTarget.target,
        AdminTarget.target,
    ]
}

/// A property every input must keep; a broken one is a finding (a trap, which libFuzzer
/// reports with the input that caused it).
func require(_ condition: Bool, _ message: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line) {
    if !condition { fatalError(message(), file: file, line: line) }
}
