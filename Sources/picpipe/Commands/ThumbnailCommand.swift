// `picpipe thumbnail IN -o OUT`: one file, no store.
import ArgumentParser
import FetchService
import Foundation
import ImageCore
import PipelineCore
import ThumbnailService

/// Makes one thumbnail from one file.
struct ThumbnailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "thumbnail",
        abstract: "Make one thumbnail of one JPEG, PNG, WebP, GIF, HEIC or AVIF file.",
        discussion: """
            The format is sniffed from the input's bytes, never from its name. The output is written atomically.
            Examples:
              picpipe thumbnail photo.jpg -o thumb.jpg --size 256
              picpipe thumbnail photo.jpg -o thumb.png --width 320 --height 200 --fit cover
              picpipe thumbnail IMG_0001.HEIC -o thumb.webp --quality 80
              picpipe thumbnail photo.jpg -o thumb.avif --speed 8
              curl -s https://example.com/photo.jpg | picpipe thumbnail - -o - --size 128 > thumb.jpg
            """)

    @Argument(help: "The input JPEG, PNG, WebP, GIF (first frame), HEIC/HEIF or AVIF file; - for standard input.")
    var input: String

    @Option(
        name: .shortAndLong,
        help: "The output file (its extension picks the format unless --format is given); - for standard output.")
    var output: String

    @Option(help: "The box's side: the thumbnail fits in size x size (default: 256, without --width and --height).")
    var size: Int?

    @Option(help: "The box's width (with --height).")
    var width: Int?

    @Option(help: "The box's height (with --width).")
    var height: Int?

    @OptionGroup var recipe: RecipeOptions

    @OptionGroup var configOptions: ConfigOptions

    func validate() throws {
        for (option, value) in [("--size", size), ("--width", width), ("--height", height)] {
            if let value, value <= 0 {
                throw ValidationError("\(option) must be a positive number of pixels, not \(value)")
            }
        }
        if size != nil, width != nil || height != nil {
            throw ValidationError("give either --size or --width and --height, not both")
        }
        if (width == nil) != (height == nil) { throw ValidationError("--width and --height go together") }
        let (w, h) = box
        guard w > 0, h > 0, w <= 16384, h <= 16384 else {
            throw ValidationError("the box must be 1 to 16384 pixels a side")
        }
        let suffix = URL(fileURLWithPath: output).pathExtension.lowercased()
        if let named = ImageFormat(fileExtension: suffix) {
            try RecipeOptions.checkWritable(named, given: "-o \(output)")
            if let format = recipe.format, format != named {
                // Writing an AVIF under a .webp name would fool every program that trusts the name.
                throw ValidationError(
                    "-o \(output) is named for \(named.displayName) but --format is \(format.rawValue): "
                        + "make them agree")
            }
        } else if Self.otherImageExtensions.contains(suffix) {
            throw ValidationError(
                "picpipe cannot write .\(suffix) files; it writes \(Self.writableNames): name the output accordingly")
        } else if !suffix.isEmpty, recipe.format == nil {
            // A typo (`thumb.jgp`) would otherwise be a JPEG under a name nothing opens as one.
            throw ValidationError(
                "-o \(output): .\(suffix) names no format picpipe writes (\(Self.writableNames)); name the output "
                    + "accordingly, or give --format to write one under this name")
        }
        try checkOutputPlace()
    }

    /// The formats written, with their extensions, for messages.
    static let writableNames = ImageFormat.writable.map { "\($0.rawValue) (.\($0.fileExtension))" }
        .joined(separator: ", ")

    /// The output must be a file, and not the input: a thumbnail written over its own picture would destroy it.
    private func checkOutputPlace() throws {
        var out = stat()
        guard stat(output, &out) == 0 else {
            if output.hasSuffix("/") {
                throw ValidationError("-o \(output) names a folder: give the thumbnail's file name in it")
            }
            return
        }
        if out.st_mode & S_IFMT == S_IFDIR {
            let folder = output.hasSuffix("/") ? String(output.dropLast()) : output
            throw ValidationError(
                "-o \(output) is a folder: give the thumbnail's file name, e.g. \(folder)/thumb.\(Self.exampleSuffix)")
        }
        var source = stat()
        if input != "-", stat(input, &source) == 0, source.st_dev == out.st_dev, source.st_ino == out.st_ino {
            throw ValidationError(
                "-o \(output) is the input itself: the thumbnail would replace the picture; give another name")
        }
    }

    /// The output's folder must exist, as for `cp`: a typo in `-o` must not grow a tree of folders (until session
    /// 27 the atomic write made every missing folder of the path). Exit 2, before any work.
    private func checkOutputFolder() throws {
        guard output != "-", !Folder.exists(output) else { return }
        let folder = Folder.parent(of: output)
        guard !folder.isEmpty, !Folder.isFolder(folder) else { return }
        let problem = Folder.exists(folder) ? "is not a folder" : "does not exist"
        FileHandleOutput.standardError.write(
            "picpipe: -o \(LogText.escaped(output)): the folder \(LogText.escaped(folder)) \(problem)\n")
        throw ExitCode(2)
    }

    private static var exampleSuffix: String { ImageFormat.jpeg.fileExtension }

    /// Extensions of image formats picpipe neither reads nor writes.
    static let otherImageExtensions: Set<String> = ["tif", "tiff", "bmp", "jxl", "jp2", "ico", "svg"]

    /// The box: --size, or --width/--height, or 256.
    var box: (Int, Int) {
        if let size { return (size, size) }
        if let width, let height { return (width, height) }
        return (256, 256)
    }

    func run() async throws {
        try checkOutputFolder()
        StoreHealth.shared.oneOffCommand(full: "the disk is full: the thumbnail cannot be written until space is freed")
        let extensionFormat = ImageFormat(fileExtension: URL(fileURLWithPath: output).pathExtension) ?? .jpeg
        let configured: PicpipeConfiguration
        do {
            configured = try PicpipeConfiguration.load(file: configOptions.config)
        } catch let error as ConfigurationError {
            throw ValidationError(error.description)
        }
        let configuration = recipe.applied(to: configured, defaultFormat: recipe.format ?? extensionFormat)
        try recipe.checkApplies(to: configuration.thumbnails.format)
        let thumbnailFunction = FunctionCatalog.thumbnail(configuration)
        guard var spec = thumbnailFunction.recipes.first?.spec else {
            throw ValidationError("no thumbnail size configured")
        }
        spec.width = box.0
        spec.height = box.1
        let limits = thumbnailFunction.limits
        let thumbnail: RenderedThumbnail
        do {
            let data = try Self.read(input, maxBytes: limits.maxFileBytes)
            let render = try data.withUnsafeBytes {
                try Thumbnailer.render($0, specs: [spec], limits: limits, overlap: thumbnailFunction.overlapsResize)
            }
            guard let first = render.thumbnails.first else { throw ImageError.invalidRequest("nothing rendered") }
            thumbnail = first
        } catch let error as ImageError {
            FileHandleOutput.standardError.write(
                "picpipe: \(LogText.escaped(inputName)): \(LogText.escaped(ThumbnailFunction.explain(error, pixelLimitSource: recipe.pixelLimitSource)))\n"
            )
            throw ExitCode(1)
        } catch {
            FileHandleOutput.standardError.write(
                "picpipe: \(LogText.escaped(inputName)): \(LogText.escaped(BatchRunner.reason(error, file: inputName)))\n"
            )
            throw ExitCode(1)
        }
        do {
            if output == "-" {
                try Self.writeAll(thumbnail.bytes, to: STDOUT_FILENO, named: "standard output")
            } else if let stream = try Self.openIfNotAFile(output) {
                // A link, a pipe, a terminal or a device (`-o /dev/stdout`): written into, never renamed over (as
                // root, an atomic write replaced the /dev/stdout link with a file).
                defer { close(stream) }
                try Self.writeAll(thumbnail.bytes, to: stream, named: output)
            } else {
                try AtomicFile.write(thumbnail.bytes, to: URL(fileURLWithPath: output), createFolder: false)
            }
        } catch {
            FileHandleOutput.standardError.write("picpipe: cannot write \(output): \(error)\n")
            throw ExitCode(1)
        }
    }

    /// The input as messages name it.
    private var inputName: String { input == "-" ? "standard input" : input }

    /// The input's bytes: the file, or standard input for `-` (a pipe: `curl … | picpipe thumbnail - -o -`).
    /// - Throws: `ImageError.fileTooLarge` past `maxBytes` (checked before a file is read; a stream is read no
    ///   further than that), else the file's read error.
    static func read(_ input: String, maxBytes: Int) throws -> Data {
        guard input == "-" else {
            let size = InputFile.size(input) ?? 0
            if size > maxBytes { throw ImageError.fileTooLarge(bytes: size, limit: maxBytes) }
            return try InputFile.read(input)
        }
        guard let data = try InputFile.readStream(STDIN_FILENO, maxBytes: maxBytes) else {
            throw StreamTooLarge(limit: maxBytes)
        }
        return data
    }

    /// Standard input held more than the file size limit (its size is not known: reading stopped there).
    struct StreamTooLarge: Error, CustomStringConvertible {
        let limit: Int
        var description: String { "more than \(limit) bytes, over the limit (\(IngestError.fileBytesKnob))" }
    }

    /// Opens `path` for writing (truncated) when it exists and is a symbolic link (written through, as `cp` does:
    /// `/dev/stdout` is one), or no regular file; nil for a plain file or nothing there.
    static func openIfNotAFile(_ path: String) throws -> Int32? {
        var status = stat()
        guard lstat(path, &status) == 0, status.st_mode & S_IFMT != S_IFREG else { return nil }
        let fd = open(path, O_WRONLY | O_CLOEXEC | O_TRUNC | O_CREAT, 0o644)
        guard fd >= 0 else { throw StoreError.io(path: path, operation: "open", errno: errno) }
        return fd
    }

    /// Writes all of `bytes` to `fd` (`UploadSpool.writeAll`), the failure named after `name`.
    static func writeAll(_ bytes: [UInt8], to fd: Int32, named name: String) throws {
        if let code = bytes.withUnsafeBytes({ UploadSpool.writeAll($0, to: fd) }) {
            throw StoreError.io(path: name, operation: "write", errno: code)
        }
    }
}
