/// What the delivery worker attempts with, rebuilt from each configuration: a reload changes the
/// transports (keys, receivers, SMTP) and the policy for the next attempt, not for one in flight.
struct DeliveryStages: Sendable {
    let iSchedule: any DeliveryTransport
    let iMIP: IMIPTransport
    /// The mail filter's e-mails back to the MTA (`reinject` records).
    let reinjection: Reinjection
    let circuit: CircuitBreaker
    let policy: DeliveryPolicy
}
