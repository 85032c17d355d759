// libFuzzer harness: EXIF extraction (libexif, and picpipe's walk beside it) and normalisation (MetadataService),
// on whole files and on heads.
import Foundation
import FuzzSupport
import ImageCore
import MetadataService

/// Feeds untrusted bytes to `MetadataReader` the two ways picpipe reads files: whole, and by growing heads.
enum ExifMetadataHarness {
    static func run(_ bytes: UnsafeRawBufferPointer) -> FuzzOutcome {
        let whole: ImageMetadata
        do {
            whole = try MetadataReader.read(bytes: bytes, file: "fuzz", sha256: nil, includeRaw: true)
        } catch {
            return .refused("\(error)")
        }
        if let problem = problem(with: whole, bytes: bytes) { return .invariantBroken(problem) }
        // The head path (`picpipe metadata` without --hash) must agree with the whole-file read whenever it
        // answers from the first half alone.
        let head = UnsafeRawBufferPointer(rebasing: bytes[..<(bytes.count / 2)])
        switch MetadataReader.read(
            bytes: head, isWholeFile: false, fileSize: bytes.count, file: "fuzz", sha256: nil, includeRaw: true)
        {
        case .success(let fromHead) where fromHead.jsonLine() != whole.jsonLine():
            // Compared as JSON lines: a 0/0 rational is NaN, which is not equal to itself.
            return .invariantBroken(
                "the first \(head.count) bytes give \(fromHead.jsonLine()), the whole file \(whole.jsonLine())")
        case .success, .failure(.needMoreBytes):
            break
        case .failure(.error(let error)):
            return .invariantBroken("the first \(head.count) bytes are refused (\(error)) but the whole file is read")
        }
        // picpipe's walk of the directories, which reads the blocks longer than libexif's 64 KiB and those whose
        // values reach its bound (1 MiB), must read every block libexif reads as libexif does (asked for on every
        // input, so it is held against libexif).
        switch MetadataReader.read(
            bytes: bytes, isWholeFile: true, fileSize: bytes.count, file: "fuzz", sha256: nil, includeRaw: true,
            reader: .directoryWalk)
        {
        case .success(let walked) where walked.jsonLine() != whole.jsonLine():
            return .invariantBroken("picpipe's walk gives \(walked.jsonLine()), libexif \(whole.jsonLine())")
        case .success:
            break
        case .failure:
            return .invariantBroken("picpipe's walk refuses a file libexif reads")
        }
        return .accepted(whole.exifError.map { "exif_error: \($0)" } ?? "\(whole.exif?.tags.count ?? 0) raw tags")
    }

    /// What the metadata of a readable file must satisfy: the header's size, finite numbers, a JSON line that parses.
    private static func problem(with metadata: ImageMetadata, bytes: UnsafeRawBufferPointer) -> String? {
        guard let header = try? ImageHeader.read(from: bytes) else { return "metadata for a file without a header" }
        guard metadata.width == header.width, metadata.height == header.height else {
            return
                "size \(metadata.width ?? -1)x\(metadata.height ?? -1), the header says \(header.width)x\(header.height)"
        }
        // Numbers are finite: JSON has no infinity, and the database and its R*Tree index must not get one.
        let numbers: [(String, Double?)] = [
            ("exposure_time", metadata.exposureTime), ("f_number", metadata.fNumber),
            ("focal_length", metadata.focalLength), ("gps_latitude", metadata.gpsLatitude),
            ("gps_longitude", metadata.gpsLongitude), ("gps_altitude", metadata.gpsAltitude),
        ]
        for case (let name, let value?) in numbers where !value.isFinite { return "\(name) is \(value)" }
        let line = metadata.jsonLine()
        guard (try? JSONSerialization.jsonObject(with: Data(line.utf8))) is [String: Any] else {
            return "the JSON line does not parse: \(line)"
        }
        return nil
    }
}

#if FUZZING
    @_cdecl("LLVMFuzzerTestOneInput")
    func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
        FuzzEntry.fuzz(data, count, harness: ExifMetadataHarness.run)
    }
#endif

@main
enum ExifMetadataMain {
    /// Built for fuzzing: libFuzzer's driver on `LLVMFuzzerTestOneInput`. Otherwise: replays the files named.
    static func main() {
        #if FUZZING
            FuzzEntry.fuzzerMain(fuzzTestOneInput)
        #else
            FuzzEntry.replayMain(harness: ExifMetadataHarness.run)
        #endif
    }
}
