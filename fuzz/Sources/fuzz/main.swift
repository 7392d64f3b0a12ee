import CFuzz
import FuzzTargets
import Glibc
import ServerCore

// `fuzz TARGET [libFuzzer options] [corpus folder or inputs]`; `fuzz --list`.
let arguments = CommandLine.arguments
if arguments.count >= 2 && arguments[1] == "--list" {
    for target in FuzzTargets.all { print("\(target.name)\t\(target.summary)") }
    exit(0)
}

// libFuzzer runs itself again for -minimize_crash, -merge and -fork with the argv it was
// given, the target's name already taken out: the name travels in the environment.
let named = arguments.count >= 2 ? FuzzTargets.all.first { $0.name == arguments[1] } : nil
let inherited = getenv("FUZZ_TARGET").map { String(cString: $0) }
guard let target = named ?? FuzzTargets.all.first(where: { $0.name == inherited }) else {
    printError("usage: fuzz TARGET [libFuzzer options] [corpus or inputs]; targets: "
               + FuzzTargets.all.map(\.name).joined(separator: " "))
    exit(2)
}
setenv("FUZZ_TARGET", target.name, 1)

/// The chosen target's run. libFuzzer calls back on this thread, one input at a time.
nonisolated(unsafe) var run = target.prepare()

exit(fuzz_run(CommandLine.argc, CommandLine.unsafeArgv, named != nil ? 1 : 0) { data, size in
    run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
})
