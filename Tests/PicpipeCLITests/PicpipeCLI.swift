// Every end-to-end test of the binary, one at a time.
import Testing

/// The CLI and serve tests run serially: they wait for child processes and sockets on a thread of Swift's
/// cooperative pool (two threads on two cores), and several at once starved the other targets' tests of it (the
/// runtime's workers did not run for a minute in a loaded CI run).
@Suite(.serialized) enum PicpipeCLI {}
