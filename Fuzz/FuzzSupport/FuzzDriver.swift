#if canImport(Glibc)
import Glibc
#endif

/// Runs one parser under libFuzzer (built with `-sanitize=fuzzer -DFUZZING`, see the README), or,
/// in a normal build, replays the files or directories named on the command line through it:
/// the same entry point reproduces a crash the fuzzer saved.
public enum FuzzDriver {
    nonisolated(unsafe) private static var body: ((borrowing [UInt8]) -> Void)?

    public static func run(_ parse: @escaping (borrowing [UInt8]) -> Void) -> Never {
        body = parse
        #if FUZZING
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        let status = withUnsafeMutablePointer(to: &argv) { pointer in
            LLVMFuzzerRunDriver(&argc, pointer, fuzzOneInput)
        }
        exit(status)
        #else
        var count = 0
        for path in CommandLine.arguments.dropFirst() { count += replay(path) }
        print("replayed \(count) input(s) without a crash")
        exit(0)
        #endif
    }

    private static func replay(_ path: String) -> Int {
        guard let directory = opendir(path) else {
            guard let file = fopen(path, "rb") else {
                print("cannot open \(path)")
                exit(2)
            }
            defer { fclose(file) }
            var bytes: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                let read = fread(&buffer, 1, buffer.count, file)
                if read == 0 { break }
                bytes += buffer[..<read]
            }
            body?(bytes)
            return 1
        }
        defer { closedir(directory) }
        var count = 0
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            count += replay(path + "/" + name)
        }
        return count
    }

    static let fuzzOneInput: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt = { data, size in
        let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
        FuzzDriver.body?(bytes)
        return 0
    }
}

#if FUZZING
@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// libFuzzer requires this symbol even when the driver is started through LLVMFuzzerRunDriver.
@_cdecl("LLVMFuzzerTestOneInput")
public func LLVMFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzDriver.fuzzOneInput(data, size)
}
#endif
