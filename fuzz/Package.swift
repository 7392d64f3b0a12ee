// swift-tools-version:6.0
import Foundation
import PackageDescription

// The main package, by path. A path dependency is named after its folder (`main`,
// `wt-fuzz`, ... in a checkout or worktree), so the name is read from where this file is.
let appserver = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
let identity = appserver.lastPathComponent.lowercased()

func library(_ name: String) -> Target.Dependency { .product(name: name, package: identity) }

let package = Package(
    name: "appserver-fuzz",
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        .target(
            name: "FuzzTargets",
            dependencies: [
                library("ServerCore"), library("HTTPService"), library("DNSService"),
                library("SMTPService"), library("FTPService"), library("AdminService"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // LLVMFuzzerRunDriver, called from the Swift main once it has chosen the target.
        .target(name: "CFuzz"),
        .executableTarget(name: "fuzz", dependencies: ["FuzzTargets", "CFuzz", library("ServerCore")]),
    ],
    swiftLanguageModes: [.v6]
)
