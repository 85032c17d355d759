// Multipart uploads in progress: one folder per upload under uploads/.picpipe-s3-multipart/ (dot-named, so the
// upload watcher never takes it). A part is written at its place in the upload's one `object` file when parts have
// the same size (the AWS CLI's and SDKs' way; `MultipartAssembly`), else into a file of its own; beside it, a file
// holds its ETag. Completing uses the object file as it is, or joins the parts into one spooled object; aborting
// removes the folder.
import Crypto
import Foundation
import Locking
import PipelineCore

#if canImport(Glibc)
    import Glibc
#endif

/// What CreateMultipartUpload recorded.
struct MultipartUpload: Codable, Sendable {
    var key: String
    var contentType: String?
    var metadata: [String: String]
    var initiated: Date
    /// The representation headers to keep with the object (`S3ObjectOptions.keptHeaders`); nil in older records.
    var headers: [String: String]? = nil
    /// The access key that created it (ListMultipartUploads' Initiator); nil in older records.
    var initiator: String? = nil
    /// The flexible checksum CreateMultipartUpload named (`x-amz-checksum-algorithm`, as `SHA256`): every part has
    /// one of it; nil when none was named, and in records before session 33.
    var checksumAlgorithm: String? = nil

    /// CreateMultipartUpload's `x-amz-checksum-type` (`COMPOSITE`, `FULL_OBJECT`); nil when it named none, and in
    /// records before session 36.
    var checksumType: String? = nil

    /// The checksum algorithm as the spool computes it.
    var checksum: PayloadChecksum.Algorithm? { checksumAlgorithm.flatMap { PayloadChecksum.Algorithm(name: $0) } }

    /// How the object's checksum is made from the parts' (the one named, else S3's for the algorithm); nil without
    /// an algorithm.
    var objectChecksumType: MultipartChecksumType? {
        guard let checksum else { return nil }
        return checksumType.flatMap { MultipartChecksumType(rawValue: $0) } ?? .standard(for: checksum)
    }
}

/// A part's flexible checksum, as UploadPart answered it (base64).
struct PartChecksum: Sendable, Equatable {
    var algorithm: PayloadChecksum.Algorithm
    var value: String

    /// The record beside the part: `sha256 VALUE`.
    var record: String { algorithm.rawValue + " " + value }

    init(algorithm: PayloadChecksum.Algorithm, value: String) {
        self.algorithm = algorithm
        self.value = value
    }

    /// The checksum of a spooled part: its header (`x-amz-checksum-sha256`) and value.
    init?(header: String, value: String) {
        guard let algorithm = PayloadChecksum.Algorithm.allCases.first(where: { $0.header == header }) else {
            return nil
        }
        self.init(algorithm: algorithm, value: value)
    }

    /// The checksum a part's record holds.
    init?(record: String) {
        let fields = record.split(separator: " ")
        guard fields.count == 2, let algorithm = PayloadChecksum.Algorithm(rawValue: String(fields[0])) else {
            return nil
        }
        self.init(algorithm: algorithm, value: String(fields[1]))
    }
}

/// One uploaded part.
struct UploadedPart: Sendable {
    var number: Int
    var size: Int
    var eTag: String
    var modified: Date
    var file: URL
    /// Where the part starts in `file` when it is placed in the upload's object file; nil: the file is the part.
    var offset: Int? = nil
    /// The flexible checksum it came with or S3 computed for it (the upload's algorithm), if any.
    var checksum: PartChecksum? = nil

    /// Hands the part's bytes, read from its file a MiB at a time, to `take`; false if they cannot be read whole.
    func readBytes(_ take: (UnsafeRawBufferPointer) -> Void) -> Bool {
        let descriptor = open(file.path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        let start = offset ?? 0
        var done = 0
        while done < size {
            let wanted = min(buffer.count, size - done)
            let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, wanted, off_t(start + done)) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { return false }
            buffer.withUnsafeBytes { take(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            done += count
        }
        return true
    }
}

/// The uploads in progress in one store.
struct MultipartUploads: Sendable {
    /// S3's limits: parts are numbered 1-10000; every part but the last has at least 5 MiB.
    static let maxPartNumber = 10_000
    static let minPartSize = 5 * 1024 * 1024
    let root: URL
    /// Which parts are being placed and how far each upload's SHA-256 has read, in this process.
    let assembly = MultipartAssembly()
    /// The room the parts being received hold in their uploads.
    let reservations = PartReservations()

    init(layout: StoreLayout) {
        root = layout.uploads.appendingPathComponent(".picpipe-s3-multipart")
    }

    /// A new upload's id (32 hex digits) after recording it.
    func create(_ upload: MultipartUpload) throws -> String {
        let id = Self.newID(initiated: upload.initiated)
        let folder = root.appendingPathComponent(id)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        try AtomicFile.write(try encoder.encode(upload), to: folder.appendingPathComponent("upload.json"))
        return id
    }

    /// Counts the ids this process makes, so that two made in one millisecond sort in the order they were made.
    private static let made = Locked<UInt16>(0)

    /// An id whose order is the order of initiation: 12 hex digits of the milliseconds since 1970, 4 of this
    /// process's count, 16 random. ListMultipartUploads lists a key's uploads in id order and resumes after
    /// `upload-id-marker` by comparing ids, which is then S3's order (by initiation) and finds the place even when
    /// the marker's upload is gone meanwhile (until session 33 ids were random, listed by initiation and compared
    /// as text: pages lost and repeated uploads).
    static func newID(initiated: Date) -> String {
        let milliseconds = UInt64(max(0, (initiated.timeIntervalSince1970 * 1000).rounded(.down)))
        let count = made.withLock { count in
            defer { count &+= 1 }
            return count
        }
        var bytes = (0..<6).map { UInt8(truncatingIfNeeded: milliseconds >> (40 - 8 * UInt64($0))) }
        bytes += [UInt8(count >> 8), UInt8(count & 0xFF)]
        bytes += (0..<8).map { _ in UInt8.random(in: 0...255) }
        return SignatureV4.hex(bytes)
    }

    /// The folder of an upload that exists, for a well-formed id.
    func folder(_ id: String) -> URL? {
        guard id.count == 32, id.allSatisfy(\.isHexDigit) else { return nil }
        let folder = root.appendingPathComponent(id)
        return FileManager.default.fileExists(atPath: folder.appendingPathComponent("upload.json").path) ? folder : nil
    }

    /// An upload's record.
    /// - Throws: `NoSuchUpload`.
    func upload(_ id: String, key: String) throws -> (MultipartUpload, URL) {
        guard let folder = folder(id),
            let data = FileManager.default.contents(atPath: folder.appendingPathComponent("upload.json").path),
            let upload = try? JSONDecoder().decode(MultipartUpload.self, from: data), upload.key == key
        else { throw AWSError.noSuchUpload(id) }
        return (upload, folder)
    }

    /// The name `upload.json` takes while a completion holds the upload.
    static let claimedName = "completing.json"

    /// Takes the upload out of progress for one completion or abort: its record is renamed, so from then on
    /// UploadPart, ListParts, ListMultipartUploads, another completion and an abort find no such upload (in every
    /// process on the store: the rename is the one step, and only one of two claims can make it). A completion that
    /// fails gives it back (`unclaim`).
    /// - Throws: `NoSuchUpload`.
    func claim(_ id: String, key: String) throws -> (MultipartUpload, URL) {
        let (upload, folder) = try self.upload(id, key: key)
        guard
            rename(
                folder.appendingPathComponent("upload.json").path,
                folder.appendingPathComponent(Self.claimedName).path) == 0
        else { throw AWSError.noSuchUpload(id) }
        return (upload, folder)
    }

    /// Gives a claimed upload back (its completion failed): its parts stay, and the client may go on.
    func unclaim(_ folder: URL) {
        rename(
            folder.appendingPathComponent(Self.claimedName).path, folder.appendingPathComponent("upload.json").path)
    }

    /// Whether the upload in `folder` still takes parts (neither claimed by a completion nor aborted). A part
    /// asks after reserving its room: a completion claims first and then waits for the reservations it sees, so
    /// each part either sees the claim or is waited for (`partsInFlight`).
    func isOpen(_ folder: URL) -> Bool {
        FileManager.default.fileExists(atPath: folder.appendingPathComponent("upload.json").path)
    }

    /// The numbers of the parts being received into the upload in `folder` now (their reservations; one whose
    /// process is gone no longer counts).
    func partsInFlight(in folder: URL) -> [Int] {
        PartReservations.reservations(in: folder, except: []).map(\.number).sorted()
    }

    /// Every upload in progress with its id, in key order, then by id: by initiation (`newID`; an upload begun
    /// before session 33 has a random id and sorts among its key's uploads by it).
    func all() -> [(id: String, upload: MultipartUpload)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        let decoder = JSONDecoder()
        return names.compactMap { id -> (id: String, upload: MultipartUpload)? in
            guard let folder = folder(id),
                let data = FileManager.default.contents(atPath: folder.appendingPathComponent("upload.json").path),
                let upload = try? decoder.decode(MultipartUpload.self, from: data)
            else { return nil }
            return (id, upload)
        }.sorted {
            if $0.upload.key != $1.upload.key {
                return Array($0.upload.key.utf8).lexicographicallyPrecedes(Array($1.upload.key.utf8))
            }
            return $0.id < $1.id
        }
    }

    /// Installs a spooled part as part `number` (replacing an earlier one of the same number, as S3 does): a part
    /// placed in the object file gets its record (`.placed`, after its bytes were synced), one in a file of its own
    /// is renamed into place.
    /// - Parameter originalKey: the key of the original the part was copied from (UploadPartCopy), kept beside it.
    /// The folder is never created again: once an abort removed it, keeping the part fails.
    func keep(_ part: SpooledObject, number: Int, in folder: URL, copiedFrom originalKey: String? = nil) throws {
        let name = Self.partName(number)
        try AtomicFile.write(
            Data(part.eTag.utf8), to: folder.appendingPathComponent(name + ".etag"), createFolder: false)
        let checksum = folder.appendingPathComponent(name + ".checksum")
        if let value = part.checksum.flatMap({ PartChecksum(header: $0.header, value: $0.value) }) {
            try AtomicFile.write(Data(value.record.utf8), to: checksum, createFolder: false)
        } else {
            unlink(checksum.path)
        }
        let source = folder.appendingPathComponent(name + ".source")
        if let originalKey {
            try AtomicFile.write(Data(originalKey.utf8), to: source, createFolder: false)
        } else {
            unlink(source.path)
        }
        if part.offset != nil {
            unlink(folder.appendingPathComponent(name).path)
            try AtomicFile.write(
                Data(String(part.size).utf8), to: folder.appendingPathComponent(name + ".placed"), createFolder: false)
            return
        }
        unlink(folder.appendingPathComponent(name + ".placed").path)
        guard rename(part.path, folder.appendingPathComponent(name).path) == 0 else {
            throw AWSError.serviceUnavailable(.s3, "cannot keep part \(number): \(String(cString: strerror(errno)))")
        }
    }

    /// Forgets a placed part before its place is written again (a part uploaded twice): the record must never
    /// name bytes being overwritten.
    func unplace(_ number: Int, in folder: URL) {
        unlink(folder.appendingPathComponent(Self.partName(number) + ".placed").path)
    }

    /// The keys of the originals parts `numbers` were copied from (UploadPartCopy), for those that were.
    func copiedOriginals(_ numbers: [Int], in folder: URL) -> [String] {
        numbers.compactMap { number in
            FileManager.default.contents(
                atPath: folder.appendingPathComponent(Self.partName(number) + ".source").path
            ).map { String(decoding: $0, as: UTF8.self) }
        }
    }

    /// Reserves room for part `number` in the upload in `folder` before any of it is written: `preferred` bytes, or
    /// as many as the limit leaves when that is at least `minimum` (`PartReservations`). The reservation is held
    /// until `release()`, after the part is kept or refused.
    /// - Throws: `EntityTooLarge` when the upload's kept and reserved parts leave no room for `minimum` bytes.
    func reserve(_ number: Int, minimum: Int, preferred: Int, in folder: URL, limit: Int) throws -> PartReservation {
        let uploads = self
        return try reservations.reserve(
            number, minimum: minimum, preferred: preferred, in: folder, limit: limit
        ) { uploads.parts(in: folder) }
    }

    /// The parts uploaded so far, by number.
    func parts(in folder: URL) -> [UploadedPart] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        let slot = MultipartAssembly.slot(in: folder)
        let object = folder.appendingPathComponent(MultipartAssembly.objectName)
        return names.compactMap { name -> UploadedPart? in
            if name.hasPrefix("part-"), name.hasSuffix(".placed"), let slot,
                let number = Int(name.dropFirst(5).dropLast(".placed".count))
            {
                let record = folder.appendingPathComponent(name)
                let stem = folder.appendingPathComponent(String(name.dropLast(".placed".count)))
                guard let text = FileManager.default.contents(atPath: record.path),
                    let size = Int(String(decoding: text, as: UTF8.self)),
                    let eTag = FileManager.default.contents(atPath: stem.path + ".etag").map({
                        String(decoding: $0, as: UTF8.self)
                    })
                else { return nil }
                let modified =
                    (try? FileManager.default.attributesOfItem(atPath: record.path)[.modificationDate] as? Date)
                    ?? Date()
                return UploadedPart(
                    number: number, size: size, eTag: eTag, modified: modified, file: object,
                    offset: (number - 1) * slot, checksum: Self.checksum(stem))
            }
            guard name.hasPrefix("part-"), !name.hasSuffix(".etag"), let number = Int(name.dropFirst(5)) else {
                return nil
            }
            let file = folder.appendingPathComponent(name)
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: file.path),
                let eTag = FileManager.default.contents(atPath: file.path + ".etag").map({
                    String(decoding: $0, as: UTF8.self)
                })
            else { return nil }
            return UploadedPart(
                number: number, size: (attributes[.size] as? Int) ?? 0, eTag: eTag,
                modified: (attributes[.modificationDate] as? Date) ?? Date(), file: file, checksum: Self.checksum(file))
        }.sorted { $0.number < $1.number }
    }

    /// The checksum recorded beside the part whose files start with `stem`.
    private static func checksum(_ stem: URL) -> PartChecksum? {
        FileManager.default.contents(atPath: stem.path + ".checksum")
            .flatMap { PartChecksum(record: String(decoding: $0, as: UTF8.self)) }
    }

    /// The `algorithm` checksum of a part's bytes, read from its file; nil if it cannot be read whole.
    static func checksum(of part: UploadedPart, _ algorithm: PayloadChecksum.Algorithm) -> PartChecksum? {
        var checksum = PayloadChecksum(algorithm)
        guard part.readBytes({ checksum.update($0) }) else { return nil }
        return PartChecksum(algorithm: algorithm, value: checksum.finalValue())
    }

    /// Aborts the uploads initiated before `cutoff` (S3's lifecycle rule AbortIncompleteMultipartUpload): their
    /// folders and parts go. An upload being completed right now is not one of them: its client would have had days.
    /// - Returns: how many were aborted.
    @discardableResult
    func abortUploads(initiatedBefore cutoff: Date) -> Int {
        var aborted = 0
        for entry in all() where entry.upload.initiated < cutoff {
            guard let (_, folder) = try? claim(entry.id, key: entry.upload.key) else { continue }
            remove(folder)
            aborted += 1
        }
        return aborted
    }

    /// Removes what is left in the uploads' folder that is not an upload in progress and has not changed since
    /// `cutoff`: a folder without its record (until session 33 a part that arrived while its upload was aborted
    /// recreated the folder, with its files and no record, which nothing removed), a completion's claim or a removal
    /// a crash cut off.
    /// - Returns: how many were removed.
    @discardableResult
    func removeLeftovers(unchangedSince cutoff: Date) -> Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        var removed = 0
        for name in names where folder(name) == nil {
            let entry = root.appendingPathComponent(name)
            let attributes = try? FileManager.default.attributesOfItem(atPath: entry.path)
            guard let modified = attributes?[.modificationDate] as? Date, modified < cutoff,
                (try? FileManager.default.removeItem(at: entry)) != nil
            else { continue }
            removed += 1
        }
        return removed
    }

    /// Removes an upload's folder and parts. The folder is renamed out of the way first, so a part still being
    /// received into it finds no folder and is refused (`NoSuchUpload`), and nothing can recreate it.
    func remove(_ folder: URL) {
        assembly.forget(upload: folder.lastPathComponent)
        let removed = root.appendingPathComponent(".removed-\(folder.lastPathComponent)-\(UUID().uuidString)")
        try? FileManager.default.removeItem(at: rename(folder.path, removed.path) == 0 ? removed : folder)
    }

    static func partName(_ number: Int) -> String {
        let digits = String(number)
        return "part-" + String(repeating: "0", count: max(0, 5 - digits.count)) + digits
    }

    /// The S3 ETag of a multipart object: the MD5 of the parts' binary MD5s, a dash, the part count.
    static func multipartETag(_ parts: [UploadedPart]) -> String {
        var md5 = Insecure.MD5()
        for part in parts {
            let hex = part.eTag.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            var bytes: [UInt8] = []
            var index = hex.startIndex
            while index < hex.endIndex, let next = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex) {
                if let byte = UInt8(hex[index..<next], radix: 16) { bytes.append(byte) }
                index = next
            }
            md5.update(data: bytes)
        }
        return "\"\(SignatureV4.hex(Array(md5.finalize())))-\(parts.count)\""
    }
}
