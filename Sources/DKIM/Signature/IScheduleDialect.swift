/// The iSchedule draft a peer speaks, which decides how requests to it are signed.
package enum IScheduleDialect: String, Sendable, Equatable, CaseIterable {
    /// draft-desruisseaux-ischedule-05 (Apple, Cyrus, this gateway): `c=ischedule-relaxed/simple`,
    /// every key query method this gateway publishes, Host never signed.
    case draft05 = "draft-05"
    /// draft-01 (DAViCal 1.1): capabilities at `?query=capabilities`; its verifier wants `Host`
    /// signed, `q=dns/txt` exactly, and rebuilds each signed header as `Name: value` whatever
    /// `c=` says, so requests to it are signed `c=simple-http/simple`.
    case draft01 = "draft-01"
}
