// swift-tools-version:6.0
import PackageDescription

let propertyBased = Target.Dependency.product(name: "PropertyBased", package: "swift-property-based")
// The metrics API only: the Prometheus backend is appserver's alone.
let coreMetrics = Target.Dependency.product(name: "CoreMetrics", package: "swift-metrics")

let package = Package(
    name: "appserver",
    products: [
        .executable(name: "appserver", targets: ["appserver"]),
        // Libraries for the fuzz package in fuzz/, which builds them with -sanitize=fuzzer.
        .library(name: "ServerCore", targets: ["ServerCore"]),
        .library(name: "HTTPService", targets: ["HTTPService"]),
        .library(name: "DNSService", targets: ["DNSService"]),
        .library(name: "SMTPService", targets: ["SMTPService"]),
        .library(name: "FTPService", targets: ["FTPService"]),
        .library(name: "AdminService", targets: ["AdminService"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .systemLibrary(name: "CCrypt", path: "Sources/CCrypt"),
        .target(name: "CSystem", path: "Sources/CSystem"),
        .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL"),
        .target(name: "CTLS", dependencies: ["COpenSSL"], path: "Sources/CTLS"),
        .target(
            name: "ServerCore",
            dependencies: ["CSystem", "COpenSSL", "CTLS", coreMetrics, .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "HTTPService",
            dependencies: ["ServerCore", "CZlib", "CSystem", coreMetrics, .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "DNSService",
            dependencies: ["ServerCore", coreMetrics, .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "SMTPService",
            dependencies: ["ServerCore", coreMetrics, .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "FTPService",
            dependencies: ["ServerCore", "CSystem", "CCrypt", coreMetrics, .product(name: "Logging", package: "swift-log")]
        ),
        .target(name: "AdminService", dependencies: ["ServerCore", "HTTPService"]),
        .executableTarget(
            name: "appserver",
            dependencies: [
                "CSystem", "ServerCore", "HTTPService", "DNSService", "SMTPService", "FTPService", "AdminService", coreMetrics,
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Prometheus too: the per-CPU histogram's flush is checked against a histogram fed directly.
        .testTarget(
            name: "ServerCoreTests",
            dependencies: ["ServerCore", propertyBased, coreMetrics, .product(name: "Prometheus", package: "swift-prometheus")]
        ),
        .testTarget(name: "HTTPServiceTests", dependencies: ["HTTPService", "ServerCore", "CZlib", propertyBased]),
        .testTarget(name: "DNSServiceTests", dependencies: ["DNSService", "ServerCore", propertyBased, coreMetrics,
                                                           .product(name: "Prometheus", package: "swift-prometheus")]),
        .testTarget(name: "SMTPServiceTests", dependencies: ["SMTPService", "ServerCore", propertyBased]),
        .testTarget(name: "FTPServiceTests", dependencies: ["FTPService", "ServerCore", propertyBased]),
        .testTarget(name: "AdminServiceTests", dependencies: ["AdminService", "ServerCore", propertyBased]),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["ServerCore", "HTTPService", "DNSService", "SMTPService", "FTPService", "appserver", .product(name: "Logging", package: "swift-log")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
