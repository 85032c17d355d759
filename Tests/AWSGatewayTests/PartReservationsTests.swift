// The room parts of a multipart upload reserve before they are written, as two processes sharing the store see it
// (two `PartReservations`, each with its own turns): a reservation written by one counts in the other's check, a
// part number counts once, a body without a declared length grows its room only while there is some, and the
// reservation of a process that is gone stops counting.
import Foundation
import PipelineCore
import Testing

@testable import AWSGateway

@Suite struct PartReservationsTests {
    static let mebibyte = 1024 * 1024
    static let limit = 10 * mebibyte

    /// An upload's folder in a new store, and the store's root (to remove).
    static func withUpload(_ body: (MultipartUploads, URL) throws -> Void) throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("reserve-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let uploads = MultipartUploads(layout: StoreLayout(root: root))
        let id = try uploads.create(MultipartUpload(key: "big.jpg", contentType: nil, metadata: [:], initiated: Date()))
        try body(uploads, try #require(uploads.folder(id)))
    }

    static func refusal(_ body: () throws -> PartReservation) -> String? {
        do {
            _ = try body()
            return nil
        } catch let error as AWSError {
            return error.code
        } catch {
            return "\(error)"
        }
    }

    @Test func anotherProcesssReservationCountsAndAPartNumberCountsOnce() throws {
        try Self.withUpload { uploads, folder in
            let one = PartReservations()
            let other = PartReservations()
            let kept: @Sendable () -> [UploadedPart] = { uploads.parts(in: folder) }
            let first = try one.reserve(
                1, minimum: 6 * Self.mebibyte, preferred: 6 * Self.mebibyte, in: folder, limit: Self.limit, kept: kept)
            #expect(
                Self.refusal {
                    try other.reserve(
                        2, minimum: 6 * Self.mebibyte, preferred: 6 * Self.mebibyte, in: folder, limit: Self.limit,
                        kept: kept)
                } == "EntityTooLarge")
            // Part 1 again (a retry in the other process): it replaces part 1, so it fits beside it.
            let again = try other.reserve(
                1, minimum: 6 * Self.mebibyte, preferred: 6 * Self.mebibyte, in: folder, limit: Self.limit, kept: kept)
            let second = try other.reserve(
                2, minimum: 4 * Self.mebibyte, preferred: 4 * Self.mebibyte, in: folder, limit: Self.limit, kept: kept)
            #expect(second.bytes == 4 * Self.mebibyte)
            // Nothing is left for part 3 until a reservation is given back.
            #expect(
                Self.refusal {
                    try one.reserve(3, minimum: 1, preferred: 1, in: folder, limit: Self.limit, kept: kept)
                } == "EntityTooLarge")
            for reservation in [first, again, second] { reservation.release() }
            let third = try one.reserve(
                3, minimum: Self.limit, preferred: Self.limit, in: folder, limit: Self.limit, kept: kept)
            third.release()
            #expect(PartReservations.reservations(in: folder, except: []).isEmpty)
        }
    }

    @Test func aBodyOfNoDeclaredLengthGrowsItsRoomWhileThereIsSome() throws {
        try Self.withUpload { uploads, folder in
            let kept: @Sendable () -> [UploadedPart] = { uploads.parts(in: folder) }
            let streamed = try PartReservations().reserve(
                1, minimum: 0, preferred: PartReservations.step, in: folder, limit: Self.limit, kept: kept)
            #expect(streamed.bytes == PartReservations.step)
            let declared = try PartReservations().reserve(
                2, minimum: 7 * Self.mebibyte, preferred: 7 * Self.mebibyte, in: folder, limit: Self.limit,
                kept: kept)
            // Up to what the other part leaves: 3 MiB, not the step beyond 2.5 MiB.
            #expect(try streamed.grow(to: 5 * Self.mebibyte / 2) == 3 * Self.mebibyte)
            // Past it: no room, the reservation stays as it was.
            #expect(try streamed.grow(to: 4 * Self.mebibyte) == 3 * Self.mebibyte)
            #expect(streamed.others == 7 * Self.mebibyte)
            declared.release()
            #expect(try streamed.grow(to: 4 * Self.mebibyte) == 4 * Self.mebibyte + PartReservations.step)
            #expect(PartReservations.reservations(in: folder, except: []).map(\.bytes) == [streamed.bytes])
            streamed.release()
        }
    }

    @Test func theReservationOfAProcessThatIsGoneStopsCounting() throws {
        try Self.withUpload { uploads, folder in
            // A reservation of all the room, written by a process of this host that no longer runs.
            let gone =
                AtomicFile.temporaryPrefix + PartReservations.kind + "1-\(Self.limit)-"
                + TemporaryOwner.current.host + "-\(Int32.max)-" + UUID().uuidString
            #expect(FileManager.default.createFile(atPath: folder.appendingPathComponent(gone).path, contents: nil))
            let part = try PartReservations().reserve(
                2, minimum: Self.limit, preferred: Self.limit, in: folder, limit: Self.limit
            ) { uploads.parts(in: folder) }
            #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent(gone).path))
            part.release()
        }
    }
}
