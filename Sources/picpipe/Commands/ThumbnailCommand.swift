// `picpipe thumbnail IN -o OUT`: one file, no store.
import ArgumentParser
import Foundation
import ImageCore
import PipelineCore
import ThumbnailService

/// Makes one thumbnail from one file.
struct ThumbnailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "thumbnail",
        abstract: "Make one thumbnail of one JPEG or PNG file.",
        discussion: """
            The format is sniffed from the input's bytes, never from its name. The output is written atomically.
            Examples:
              picpipe thumbnail photo.jpg -o thumb.jpg --size 256
              picpipe thumbnail photo.jpg -o thumb.png --width 320 --height 200 --fit cover
            """)

    @Argument(help: "The input JPEG or PNG file.")
    var input: String

    @Option(name: .shortAndLong, help: "The output file (its extension picks the format unless --format is given).")
    var output: String

    @Option(help: "The box's side: the thumbnail fits in size x size.")
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
        guard w > 0, h > 0, w <= 16384, h <= 16384 else { throw ValidationError("the box must be 1 to 16384 pixels a side") }
        let suffix = URL(fileURLWithPath: output).pathExtension.lowercased()
        if Self.unwritableExtensions.contains(suffix) {
            // Writing a JPEG under a .webp name would fool every program that trusts the name.
            throw ValidationError(
                "picpipe cannot write .\(suffix) files; it writes JPEG (.jpg, .jpeg) and PNG (.png): "
                    + "name the output accordingly")
        }
    }

    /// Extensions of image formats picpipe reads nothing of or cannot write.
    static let unwritableExtensions: Set<String> = [
        "webp", "avif", "heic", "heif", "gif", "tif", "tiff", "bmp", "jxl", "jp2", "ico", "svg",
    ]

    /// The box: --size, or --width/--height, or 256.
    var box: (Int, Int) {
        if let size { return (size, size) }
        if let width, let height { return (width, height) }
        return (256, 256)
    }

    func run() async throws {
        let extensionFormat: ImageFormat = URL(fileURLWithPath: output).pathExtension.lowercased() == "png" ? .png : .jpeg
        let configured: PicpipeConfiguration
        do {
            configured = try PicpipeConfiguration.load(file: configOptions.config)
        } catch let error as ConfigurationError {
            throw ValidationError(error.description)
        }
        let configuration = recipe.applied(to: configured, defaultFormat: recipe.format ?? extensionFormat)
        let thumbnailFunction = FunctionCatalog.thumbnail(configuration)
        guard var spec = thumbnailFunction.recipes.first?.spec else { throw ValidationError("no thumbnail size configured") }
        spec.width = box.0
        spec.height = box.1
        let limits = thumbnailFunction.limits
        let thumbnail: RenderedThumbnail
        do {
            let size = (try? FileManager.default.attributesOfItem(atPath: input)[.size] as? Int) ?? 0
            if size > limits.maxFileBytes { throw ImageError.fileTooLarge(bytes: size, limit: limits.maxFileBytes) }
            let data = try InputFile.read(input)
            let render = try data.withUnsafeBytes { try Thumbnailer.render($0, specs: [spec], limits: limits) }
            guard let first = render.thumbnails.first else { throw ImageError.invalidRequest("nothing rendered") }
            thumbnail = first
        } catch let error as ImageError {
            FileHandleOutput.standardError.write("picpipe: \(input): \(ThumbnailFunction.explain(error))\n")
            throw ExitCode(1)
        } catch {
            FileHandleOutput.standardError.write("picpipe: \(input): \(BatchRunner.reason(error, file: input))\n")
            throw ExitCode(1)
        }
        do {
            try AtomicFile.write(thumbnail.bytes, to: URL(fileURLWithPath: output))
        } catch {
            FileHandleOutput.standardError.write("picpipe: cannot write \(output): \(error)\n")
            throw ExitCode(1)
        }
    }
}
