// Room for the parts of a multipart upload being received, so that parts sent at once cannot together take the upload
// past the object limit (`http.max_body_bytes`): each part reserves its bytes before it writes any (its declared
// length, or, for a body without one, what has arrived and a little more), and the kept and reserved parts together
// never pass the limit. Each part saw only the parts already kept, so ten parts in flight took the upload ten times
// past it. A reservation is an empty file in the upload's folder with the part number and the bytes in its name:
// every process sharing the store sees it. Reservations are written before they are counted, so of two processes
// reserving at once the later one always counts the earlier one's; in one process they also take turns.
import Foundation
import Locking
import PipelineCore

#if canImport(Glibc)
    import Glibc
#endif

/// The reservations of the parts being received in one store.
final class PartReservations: Sendable {
    /// The reservations' file names: `.picpipe-tmp-reserve-NUMBER-BYTES-HOST-PID-UUID`, a temporary file's name (so
    /// one its process left behind when it died is recognised by its owner, `TemporaryOwner`, and no longer counts).
    static let kind = "reserve-"
    /// The room a body without a declared length reserves ahead of its bytes.
    static let step = 1 << 20
    /// This process's reservations are counted and written one at a time, so they never refuse each other needlessly.
    let turn = Locked<Void>(())

    /// Reserves room for part `number` of the upload in `folder`: `preferred` bytes, or as many as there is room for
    /// when that is at least `minimum`.
    /// - Parameters:
    ///   - kept: the upload's kept parts (read after the reservation is written).
    ///   - limit: the most bytes the upload's parts may hold together.
    /// - Throws: `EntityTooLarge` (`AWSError.partTooLarge`) when there is no room for `minimum` bytes, nothing
    ///   reserved; `ServiceUnavailable` when the reservation cannot be written.
    func reserve(
        _ number: Int, minimum: Int, preferred: Int, in folder: URL, limit: Int,
        kept: @escaping @Sendable () -> [UploadedPart]
    ) throws -> PartReservation {
        try turn.withLock { _ in
            let announced = try Self.create(number, bytes: preferred, in: folder)
            let others = Self.held(
                besides: number, kept: kept(), reserved: Self.reservations(in: folder, except: [announced]))
            let room = limit - others
            guard room >= minimum else {
                unlink(announced.path)
                throw AWSError.partTooLarge(limit: limit, number: number, others: others)
            }
            var file = announced
            if room < preferred {
                defer { unlink(announced.path) }
                file = try Self.create(number, bytes: room, in: folder)
            }
            return PartReservation(
                number: number, folder: folder, limit: limit, file: file, bytes: min(room, preferred), others: others,
                kept: kept, reservations: self)
        }
    }

    /// A new reservation file for `bytes` bytes of part `number`.
    static func create(_ number: Int, bytes: Int, in folder: URL) throws -> URL {
        let file = folder.appendingPathComponent(
            AtomicFile.temporaryName(kind: kind + String(number) + "-" + String(max(0, bytes)) + "-"))
        let descriptor = open(file.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw errno == ENOSPC
                ? AWSError("InsufficientStorage", status: 507, "The store's disk is full.")
                : AWSError.serviceUnavailable(
                    .s3, "cannot reserve room for part \(number): \(String(cString: strerror(errno)))")
        }
        close(descriptor)
        return file
    }

    /// The reservations in an upload's folder but `excluded` (their holders' own), as (part number, bytes); one
    /// whose process is gone is removed.
    static func reservations(in folder: URL, except excluded: [URL]) -> [(number: Int, bytes: Int)] {
        let prefix = AtomicFile.temporaryPrefix + kind
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        let skipped = Set(excluded.map(\.lastPathComponent))
        return names.compactMap { name -> (number: Int, bytes: Int)? in
            guard name.hasPrefix(prefix), !skipped.contains(name) else { return nil }
            let fields = name.dropFirst(prefix.count).split(separator: "-")
            guard fields.count >= 2, let number = Int(fields[0]), let bytes = Int(fields[1]) else { return nil }
            let file = folder.appendingPathComponent(name)
            if TemporaryOwner.isStale(file) {
                unlink(file.path)
                return nil
            }
            return (number, bytes)
        }
    }

    /// The bytes an upload's parts hold besides part `number`, each part number counted once (the most its kept
    /// part or any reservation of it holds: a part sent again replaces the old one). Part `number` is left out:
    /// the part being reserved replaces it, and another reservation of it is counted as that part's, not this one's.
    static func held(besides number: Int, kept: [UploadedPart], reserved: [(number: Int, bytes: Int)]) -> Int {
        var most: [Int: Int] = [:]
        for part in kept where part.number != number { most[part.number] = max(most[part.number] ?? 0, part.size) }
        for reservation in reserved where reservation.number != number {
            most[reservation.number] = max(most[reservation.number] ?? 0, reservation.bytes)
        }
        return most.values.reduce(0, +)
    }
}

/// One part's room in its upload, held from before its first byte is written until it is kept or refused; then
/// `release()` gives it back.
final class PartReservation: Sendable {
    let number: Int
    let folder: URL
    let limit: Int
    private let kept: @Sendable () -> [UploadedPart]
    private let reservations: PartReservations
    /// The reservation's file (nil once released), the bytes it reserves, and the bytes the upload's other parts
    /// held when it was last counted.
    private let state: Locked<(file: URL?, bytes: Int, others: Int)>

    fileprivate init(
        number: Int, folder: URL, limit: Int, file: URL, bytes: Int, others: Int,
        kept: @escaping @Sendable () -> [UploadedPart], reservations: PartReservations
    ) {
        self.number = number
        self.folder = folder
        self.limit = limit
        self.kept = kept
        self.reservations = reservations
        state = Locked((file, bytes, others))
    }

    /// The bytes reserved now.
    var bytes: Int { state.withLock { $0.bytes } }

    /// The bytes the upload's other parts held when this part's room was last counted (for the refusal's message).
    var others: Int { state.withLock { $0.others } }

    /// Asks for room for `needed` bytes in all (a body without a declared length that has come this far), and a
    /// `PartReservations.step` more when there is room for it.
    /// - Returns: the bytes reserved now: fewer than `needed` when there is no room (the reservation is unchanged).
    func grow(to needed: Int) throws -> Int {
        try reservations.turn.withLock { _ in
            let (current, bytes) = state.withLock { ($0.file, $0.bytes) }
            guard let current, needed > bytes else { return bytes }
            let preferred = needed + PartReservations.step
            var file = try PartReservations.create(number, bytes: preferred, in: folder)
            let others = PartReservations.held(
                besides: number, kept: kept(),
                reserved: PartReservations.reservations(in: folder, except: [current, file]))
            let room = limit - others
            state.withLock { $0.others = others }
            guard room >= needed else {
                unlink(file.path)
                return bytes
            }
            if room < preferred {
                let announced = file
                defer { unlink(announced.path) }
                file = try PartReservations.create(number, bytes: room, in: folder)
            }
            unlink(current.path)
            let granted = min(room, preferred)
            state.withLock { $0 = (file, granted, others) }
            return granted
        }
    }

    /// Gives the room back: the part was kept (it counts as kept now) or refused.
    func release() {
        let file = state.withLock { state in
            defer { state.file = nil }
            return state.file
        }
        if let file { unlink(file.path) }
    }
}
