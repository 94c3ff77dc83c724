import FuzzSupport
import ISchedule

// Capabilities, schedule-response and error document readers.
FuzzDriver.run { bytes in
    _ = try? Capabilities(xml: bytes)
    _ = try? ScheduleResponse(xml: bytes)
    _ = try? ErrorDocument(xml: bytes)
}
