// `picpipe --version` names every C library with the version the library itself reports and its file.
import Foundation
import Testing

extension PicpipeCLI {
    @Suite(.serialized) struct VersionCommandTests {
        /// What pkg-config says of a package (the -dev files the build used), or nil without pkg-config.
        static func pkgConfigVersion(_ package: String) -> String? {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["pkg-config", "--modversion", package]
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = FileHandle.nullDevice
            guard (try? process.run()) != nil else { return nil }
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { return nil }
            return String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }

        @Test func versionNamesEveryLibraryWithItsVersionAndFile() async throws {
            let output = try await PicpipeProcess.run(["--version"])
            #expect(output.status == 0)
            let lines = output.stdout.split(separator: "\n").map(String.init)
            #expect(lines.first?.hasPrefix("picpipe ") == true)
            for (name, package) in [
                ("libjpeg-turbo", "libjpeg"), ("libpng", "libpng"), ("zlib", "zlib"), ("lcms2", "lcms2"),
                ("libexif", "libexif"), ("SQLite", "sqlite3"), ("libdeflate", "libdeflate"),
            ] {
                let line = try #require(lines.first { $0.trimmingCharacters(in: .whitespaces).hasPrefix(name + " ") })
                #expect(line.contains("/lib"), "\(name): the loaded file is named")
                if name != "libexif", let expected = Self.pkgConfigVersion(package) {
                    #expect(line.contains(" \(expected)"), "\(name): \(line) vs pkg-config \(expected)")
                }
            }
        }
    }
}
