extension StringProtocol {
    /// Without leading and trailing spaces, tabs and carriage returns.
    @inlinable
    public var trimmingBlanks: SubSequence {
        let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
        let start = firstIndex { !blank($0) } ?? endIndex
        let end = lastIndex { !blank($0) }.map { index(after: $0) } ?? start
        return self[start..<end]
    }
}
