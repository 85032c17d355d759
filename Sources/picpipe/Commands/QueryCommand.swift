// STUB: replaced by the metadata work.
import ArgumentParser

struct QueryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "query", abstract: "Not yet implemented.")
    func run() async throws {}
}
