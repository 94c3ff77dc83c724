import FuzzSupport
import ISchedule

// The iCalendar inspector and iTIP rules.
FuzzDriver.run { bytes in
    if let message = try? ITIPMessage(parsing: bytes), let originator = message.expectedOriginator {
        try? message.checkOriginator(originator)
    }
}
