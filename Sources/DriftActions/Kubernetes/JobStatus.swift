import DriftCore
/// What driftwatch reads of a `batch/v1` Job (`GET …/jobs/{name}`): its status.
public struct JobStatusResponse: Decodable, Sendable, Equatable {
    public var status: Status?

    /// `JobStatus`.
    public struct Status: Decodable, Sendable, Equatable {
        public var succeeded: Int?
        public var conditions: [Condition]?
    }

    /// `JobCondition`.
    public struct Condition: Decodable, Sendable, Equatable {
        public var type: String
        public var status: String
    }

    /// The run's state: succeeded, failed or running.
    public var state: RemediationState {
        let conditions = status?.conditions ?? []
        func holds(_ type: String) -> Bool { conditions.contains { $0.type == type && $0.status == "True" } }
        if holds("Complete") || (status?.succeeded ?? 0) > 0 { return .succeeded }
        if holds("Failed") { return .failed }
        return .running
    }
}
