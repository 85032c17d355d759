// The reason batch prints beside a file's name: the name once.
import Foundation
import Testing

@testable import PipelineCore

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct BatchReasonTests {
    /// `picpipe: in/secret.jpg: open failed for in/secret.jpg: Permission denied` named the file twice.
    @Test func theFileIsNamedOnce() {
        let error = StoreError.io(path: "in/secret.jpg", operation: "open", errno: EACCES)
        #expect(BatchRunner.reason(error, file: "in/secret.jpg") == "open failed: Permission denied")
    }
}
