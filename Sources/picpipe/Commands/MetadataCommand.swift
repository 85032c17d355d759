// STUB: replaced by the metadata work.
import ArgumentParser

struct MetadataCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "metadata", abstract: "Not yet implemented.")
    func run() async throws {}
}
