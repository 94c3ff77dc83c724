import FuzzSupport
import ISchedule

// A CalDAV server's free-busy-query answer, read into busy periods (never relayed).
FuzzDriver.run { bytes in
    _ = try? FreeBusyReply.busyPeriods(in: Array(bytes))
}
