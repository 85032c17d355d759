// The picpipe command line: wiring only; the work lives in the services.
import ArgumentParser
import Foundation
import Logging
import PipelineCore

#if canImport(Glibc)
    import Glibc
#endif

/// The root command; `main` maps usage errors to exit code 2 (ArgumentParser's default is 64).
@main
struct Picpipe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "picpipe",
        abstract: "An image pipeline: thumbnails, metadata and an HTTP fetch service over one store.",
        discussion: "picpipe --version prints its version and the versions of the C libraries it runs with.",
        subcommands: [
            ThumbnailCommand.self, BatchCommand.self, ThumbnailsCommand.self,
            MetadataCommand.self, QueryCommand.self,
            ServeCommand.self, InvokeCommand.self, ImportCommand.self, EventsCommand.self, ReplayCommand.self,
            StatsCommand.self, BenchQueueCommand.self,
            ConfigCommand.self, DatabaseCommand.self,
        ])

    static func main() async {
        // `metadata` gets thousands of paths from xargs; ArgumentParser's per-value bookkeeping is quadratic in
        // their number, so all but the first are set aside and given back after parsing.
        var arguments = Array(CommandLine.arguments.dropFirst())
        // Answered here, not by ArgumentParser's `version:`: that string is built when the configuration is first
        // read, by every command, and finding the libraries' files (/proc/self/maps) was a third of a start-up.
        if arguments == ["--version"] {
            print(VersionReport.text)
            return
        }
        let extraFiles = MetadataCommand.setAsideExtraFiles(&arguments)
        var command: any ParsableCommand
        do {
            command = try parseAsRoot(arguments)
        } catch {
            exitAfterParsing(error, arguments: arguments)
        }
        if var metadata = command as? MetadataCommand {
            metadata.files += extraFiles
            command = metadata
        }
        do {
            // A mistyped PICPIPE_* variable is refused by every command, also those that read no configuration
            // (but not by --help and the like, which ArgumentParser runs as commands of its own).
            let ours = configuration.subcommands.contains {
                ObjectIdentifier($0) == ObjectIdentifier(type(of: command))
            }
            do {
                if ours { try PicpipeConfiguration.checkVariables(ProcessInfo.processInfo.environment) }
            } catch let error as ConfigurationError {
                throw ValidationError(error.description)
            }
            // Every command logs to standard error one line per entry, whatever a file name holds (serve sets its
            // level from the configuration when it bootstraps the same handler).
            if !(command is ServeCommand) {
                LoggingSystem.bootstrap { LineSafeLogHandler(StreamLogHandler.standardError(label: $0)) }
            }
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exitAfterRunning(error, command: type(of: command))
        }
    }

    /// A parse or `validate()` error: the message (with a hint where a common slip explains it), exit 2.
    static func exitAfterParsing(_ error: any Error, arguments: [String]) -> Never {
        guard exitCode(for: error) == .validationFailure else { exit(withError: error) }
        if let unknown = UsageHints.unknownSubcommand(arguments, known: Self.subcommandNames) {
            FileHandleOutput.standardError.write("picpipe: \(unknown)\nSee 'picpipe --help' for the commands.\n")
            Glibc.exit(2)
        }
        var lines = fullMessage(for: error).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if let hint = UsageHints.negativeValue(arguments) { lines.insert(hint, at: min(1, lines.count)) }
        let message = lines.joined(separator: "\n")
        FileHandleOutput.standardError.write(message + "\n")
        Glibc.exit(2)
    }

    /// An error thrown by a command's `run()`: a `ValidationError` is a usage error of that subcommand (exit 2,
    /// with its usage, not the root's); anything else is one line, `picpipe: …`, exit 1.
    static func exitAfterRunning(_ error: any Error, command: any ParsableCommand.Type) -> Never {
        switch error {
        case let error as ExitCode:
            Glibc.exit(error.rawValue)
        case let error as ValidationError:
            let usage =
                ObjectIdentifier(command) == ObjectIdentifier(Picpipe.self) ? usageString() : usageString(for: command)
            // The command's whole path, as its usage line starts (`picpipe db migrate`, not `picpipe migrate`).
            let path = usage.split(separator: " ").prefix { word in
                !word.hasPrefix("[") && !word.hasPrefix("<") && !word.hasPrefix("-")
            }.joined(separator: " ")
            FileHandleOutput.standardError.write(
                "Error: \(error.message)\nUsage: \(usage)\n  See '\(path) --help' for more information.\n")
            Glibc.exit(2)
        default:
            switch exitCode(for: error) {
            case .success:
                exit(withError: error)  // --help and the like, which ArgumentParser delivers as errors
            case .validationFailure:
                FileHandleOutput.standardError.write(fullMessage(for: error) + "\n")
                Glibc.exit(2)
            case let code:
                FileHandleOutput.standardError.write("picpipe: \(error)\n")
                Glibc.exit(code.rawValue)
            }
        }
    }

    /// The names of the subcommands, for "did you mean".
    static var subcommandNames: [String] {
        configuration.subcommands.compactMap { $0.configuration.commandName } + ["help"]
    }
}

/// Hints for the slips new users make on the command line.
enum UsageHints {
    /// "unknown command 'thumbnial'; did you mean 'thumbnail'?" when the first argument is not a subcommand.
    static func unknownSubcommand(_ arguments: [String], known: [String]) -> String? {
        guard let first = arguments.first, !first.hasPrefix("-"), !known.contains(first) else { return nil }
        var text = "unknown command '\(first)'"
        if let suggestion = Suggestion.closest(to: first, among: known) { text += "; did you mean '\(suggestion)'?" }
        return text
    }

    /// A hint when an option is followed by a value that starts with `-` and a digit (`--bbox -34,150,-33,152`):
    /// such a value looks like an option to the parser, so it needs `=`.
    static func negativeValue(_ arguments: [String]) -> String? {
        for (option, value) in zip(arguments, arguments.dropFirst()) {
            guard option.hasPrefix("--"), !option.contains("="), looksNegative(value) else { continue }
            return "Hint: a value that starts with '-' needs '=': \(option)=\(value)"
        }
        return nil
    }

    static func looksNegative(_ value: String) -> Bool {
        let characters = Array(value)
        return characters.count >= 2 && characters[0] == "-" && (characters[1].isNumber || characters[1] == ".")
    }
}
