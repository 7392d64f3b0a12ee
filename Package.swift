// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "appserver",
    products: [
        .executable(name: "appserver", targets: ["appserver"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .systemLibrary(name: "CCrypt", path: "Sources/CCrypt"),
        .target(name: "CSystem", path: "Sources/CSystem"),
        .target(
            name: "ServerCore",
            dependencies: ["CSystem", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "HTTPService",
            dependencies: ["ServerCore", "CZlib", "CSystem", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "DNSService",
            dependencies: ["ServerCore", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "SMTPService",
            dependencies: ["ServerCore", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "FTPService",
            dependencies: ["ServerCore", "CSystem", "CCrypt", .product(name: "Logging", package: "swift-log")]
        ),
        .executableTarget(
            name: "appserver",
            dependencies: [
                "ServerCore", "HTTPService", "DNSService", "SMTPService", "FTPService",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "ServerCoreTests", dependencies: ["ServerCore"]),
        .testTarget(name: "HTTPServiceTests", dependencies: ["HTTPService", "ServerCore", "CZlib"]),
        .testTarget(name: "DNSServiceTests", dependencies: ["DNSService"]),
        .testTarget(name: "SMTPServiceTests", dependencies: ["SMTPService"]),
        .testTarget(name: "FTPServiceTests", dependencies: ["FTPService", "ServerCore"]),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["ServerCore", "HTTPService", "DNSService", "SMTPService", "FTPService", "appserver", .product(name: "Logging", package: "swift-log")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
