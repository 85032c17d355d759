// The picpipe command line: wiring only; the work lives in the services.
import ArgumentParser

#if canImport(Glibc)
import Glibc
#endif

/// The root command; `main` maps usage errors to exit code 2 (ArgumentParser's default is 64).
@main
struct Picpipe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "picpipe",
        abstract: "An image pipeline: thumbnails, metadata and an HTTP fetch service over one store.",
        subcommands: [
            ThumbnailCommand.self, BatchCommand.self,
            MetadataCommand.self, QueryCommand.self,
            ServeCommand.self, InvokeCommand.self, EventsCommand.self, ReplayCommand.self, StatsCommand.self,
            ConfigCommand.self,
        ])

    static func main() async {
        do {
            // `metadata` gets thousands of paths from xargs; ArgumentParser's per-value bookkeeping is quadratic in
            // their number, so all but the first are set aside and given back after parsing.
            var arguments = Array(CommandLine.arguments.dropFirst())
            let extraFiles = MetadataCommand.setAsideExtraFiles(&arguments)
            var command = try parseAsRoot(arguments)
            if var metadata = command as? MetadataCommand {
                metadata.files += extraFiles
                command = metadata
            }
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                // A usage error: say what is wrong and exit 2, the shell convention.
                FileHandleOutput.standardError.write(fullMessage(for: error) + "\n")
                Glibc.exit(2)
            }
            exit(withError: error)
        }
    }
}
