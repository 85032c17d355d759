// A function with the settings the runtime runs it under.

/// A function and its Lambda-style settings, as registered with the runtime.
public struct RegisteredFunction: Sendable {
    /// The handler.
    public var function: any PipelineFunction
    /// Its timeout, memory, concurrency, retries, event age and on-failure destination.
    public var configuration: FunctionConfiguration

    /// - Parameters: see the properties.
    public init(_ function: any PipelineFunction, configuration: FunctionConfiguration) {
        self.function = function
        self.configuration = configuration
    }

    /// The function's name.
    public var name: String { function.name }
}
