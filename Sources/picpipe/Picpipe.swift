// The picpipe command line: wiring only; the work lives in the services.
import ArgumentParser

@main
struct Picpipe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "picpipe",
        abstract: "An image pipeline: thumbnails, metadata and an HTTP fetch service over one store.",
        subcommands: [MetadataCommand.self, QueryCommand.self])
}
