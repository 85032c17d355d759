// libFuzzer harness: JPEG header probe, decode with shrink-on-load and thumbnails (ImageCore, libjpeg-turbo).
import FuzzSupport
import ImageCore

/// Feeds untrusted bytes to `Thumbnailer.render` when they are a JPEG, and checks that picpipe's Huffman decoder
/// and libjpeg-turbo's decode them alike (`JPEGEntropyCheck`).
enum JPEGThumbnailHarness {
    static func run(_ bytes: UnsafeRawBufferPointer) -> FuzzOutcome {
        let outcome = ThumbnailHarness.run(bytes, format: .jpeg)
        if let disagreement = JPEGEntropyCheck.disagreement(bytes, limits: ThumbnailHarness.limits) {
            return .invariantBroken(disagreement)
        }
        return outcome
    }
}

#if FUZZING
    @_cdecl("LLVMFuzzerTestOneInput")
    func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
        FuzzEntry.fuzz(data, count, harness: JPEGThumbnailHarness.run)
    }
#endif

@main
enum JPEGThumbnailMain {
    /// Built for fuzzing: libFuzzer's driver on `LLVMFuzzerTestOneInput`. Otherwise: replays the files named.
    static func main() {
        #if FUZZING
            FuzzEntry.fuzzerMain(fuzzTestOneInput)
        #else
            FuzzEntry.replayMain(harness: JPEGThumbnailHarness.run)
        #endif
    }
}
