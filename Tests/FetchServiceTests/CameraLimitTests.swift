// GET /cameras takes `limit` (the most used cameras) and `match` (make or model holding a text), so a store with
// thousands of cameras need not send them all (until session 34 it always did, and `?limit=` was ignored).
import Foundation
import MetadataService
import PipelineCore
import Testing

struct CameraLimitTests {
    @Test func limitKeepsTheMostUsedCamerasAndMatchFiltersThem() async throws {
        try await FetchServer.with { client, layout in
            let pictures: [(make: String, model: String)] = [
                ("Canon", "EOS 7D"), ("Canon", "EOS 7D"), ("Canon", "EOS 7D"), ("NIKON", "D1X"), ("NIKON", "D1X"),
                ("Sony", "A7"), ("Canon", "EOS R5"),
            ]
            for (index, camera) in pictures.enumerated() {
                var row = ImageMetadata(file: "")
                row.sha256 = String(repeating: String(format: "%02x", 0xA0 + index), count: 32)
                row.make = camera.make
                row.model = camera.model
                try FetchServer.dropped(
                    [0xFF, 0xD8, 0xFF, 0xD9, UInt8(index)], row: row, sourceName: "\(index).jpg", in: layout)
            }
            func cameras(_ query: String) async throws -> (total: Int?, names: [String]) {
                let answer = try await client.send("GET", "/cameras" + query)
                #expect(answer.status == 200, "\(query)")
                let items = answer.json?["cameras"] as? [[String: Any]] ?? []
                let names = items.map { "\($0["make"] as? String ?? "?") \($0["model"] as? String ?? "?")" }
                return (answer.json?["total"] as? Int, names)
            }
            #expect(try await cameras("").names == ["Canon EOS 7D", "Canon EOS R5", "NIKON D1X", "Sony A7"])
            // The two most used, still sorted by make then model; the total still counts every picture.
            let top = try await cameras("?limit=2")
            #expect(top.names == ["Canon EOS 7D", "NIKON D1X"])
            #expect(top.total == 7)
            // A tie goes to the first in sort order.
            #expect(try await cameras("?limit=3").names == ["Canon EOS 7D", "Canon EOS R5", "NIKON D1X"])
            #expect(try await cameras("?match=canon").names == ["Canon EOS 7D", "Canon EOS R5"])
            #expect(try await cameras("?match=r5").names == ["Canon EOS R5"])
            #expect(try await cameras("?match=eos&limit=1").names == ["Canon EOS 7D"])
            #expect(try await cameras("?match=Leica").names == [])
            #expect(try await cameras("?match=").names.count == 4, "an empty match is not given")
            // Digits past Int's range are a limit past the cameras' number, as the schema (integer, minimum 1) allows.
            #expect(try await cameras("?limit=18353926824699271865866125312").names.count == 4)
            for bad in ["?limit=0", "?limit=x", "?limit=-1"] {
                #expect(try await client.send("GET", "/cameras" + bad).status == 400, "\(bad)")
            }
        }
    }
}
