// Finding the inputs of a batch: every JPEG and PNG under the given files and folders.
import Foundation
import ImageCore


/// One file a batch will process.
public struct BatchInput: Sendable, Hashable {
    /// The path as found (under an input folder, or as named).
    public var path: String

    /// - Parameter path: the file's path.
    public init(path: String) { self.path = path }

    /// Extensions that announce an image: such a file is processed (and fails if its bytes are not JPEG/PNG).
    static let imageExtensions: Set<String> = ["jpg", "jpeg", "jpe", "jfif", "png"]

    /// Every input under `paths`, recursively, in a stable order.
    ///
    /// A file named on the command line is always taken. Under a folder, a file is taken when its bytes
    /// are JPEG or PNG (sniffed, whatever its name) or its name claims an image extension; dotfiles and
    /// other files are left alone.
    /// - Returns: the inputs, and the paths that do not exist.
    public static func discover(_ paths: [String]) -> (inputs: [BatchInput], missing: [String]) {
        var inputs: [BatchInput] = []
        var missing: [String] = []
        var seen = Set<String>()
        for path in paths {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
                missing.append(path)
                continue
            }
            if !isFolder.boolValue {
                if seen.insert(path).inserted { inputs.append(BatchInput(path: path)) }
                continue
            }
            var found: [String] = []
            let root = URL(fileURLWithPath: path)
            let walker = FileManager.default.enumerator(
                at: root, includingPropertiesForKeys: [.isRegularFileKey], options: [.skipsHiddenFiles])
            while let url = walker?.nextObject() as? URL {
                guard (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true else { continue }
                let relative = String(url.path.dropFirst(root.path.count).drop(while: { $0 == "/" }))
                let file = path.hasSuffix("/") ? path + relative : path + "/" + relative
                if imageExtensions.contains(url.pathExtension.lowercased()) || sniffsAsImage(url) {
                    found.append(file)
                }
            }
            for file in found.sorted() where seen.insert(file).inserted {
                inputs.append(BatchInput(path: file))
            }
        }
        return (inputs, missing)
    }

    /// Whether the first bytes of the file are JPEG or PNG.
    static func sniffsAsImage(_ url: URL) -> Bool {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return false }
        defer { try? handle.close() }
        guard let head = try? handle.read(upToCount: 8) else { return false }
        return head.withUnsafeBytes { ImageFormat.sniff($0) } != nil
    }
}
