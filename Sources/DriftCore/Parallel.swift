import Dispatch

/// Maps `0..<count` on all cores (features are independent; a window's features are
/// spread over the machine's cores). Results keep index order.
public func concurrentMap<T: Sendable>(_ count: Int, _ transform: @Sendable (Int) -> T) -> [T] {
    if count == 0 { return [] }
    if count == 1 { return [transform(0)] }
    let slots = UnsafeMutableBufferPointer<T?>.allocate(capacity: count)
    slots.initialize(repeating: nil)
    defer {
        slots.deinitialize()
        slots.deallocate()
    }
    // Safe without a lock: iteration i writes slot i only, each slot exactly once, and the
    // slots are read only after concurrentPerform returns, which happens-after every iteration.
    nonisolated(unsafe) let shared = slots
    DispatchQueue.concurrentPerform(iterations: count) { i in
        shared[i] = transform(i)
    }
    return slots.map { slot in
        guard let value = slot else { preconditionFailure("concurrentPerform skipped an iteration") }
        return value
    }
}
