// The shape Swift 6.3.1 miscompiles at -O, reduced (docs/install.md, "Release builds"): a task-group child
// that returns from inside `do throws(E) { … } catch { … }`. Built with -DRETURN_INSIDE it is that
// shape; without, it is the one the project uses (a Result in a local, one return after). Prints
// "corrupted: N of 8000"; a crash or N > 0 is the miscompile.
enum LookupError: Error {
    case temporary(String)
    case permanent(String)
}
struct Outcome: Sendable {
    let name: String
    let urls: [String]
}

@inline(never) func locate(_ domain: String, _ i: Int) async throws(LookupError) -> Outcome {
    if i % 7 == 0 { throw .temporary(domain) }
    return Outcome(name: domain, urls: ["https://\(domain):443/x", "http://\(domain)/y"])
}

@main struct Main {
    static func main() async {
        var bad = 0
        for iteration in 0..<2000 {
            let domains = (0..<4).map { "d\($0).example\(iteration)" }
            let results = await withTaskGroup(of: (String, Result<Outcome, LookupError>).self) { group in
                for (n, domain) in domains.enumerated() {
                    group.addTask {
                        #if RETURN_INSIDE
                            do throws(LookupError) { return (domain, .success(try await locate(domain, iteration + n))) } catch {
                                return (domain, .failure(error))
                            }
                        #else
                            let result: Result<Outcome, LookupError>
                            do throws(LookupError) { result = .success(try await locate(domain, iteration + n)) } catch { result = .failure(error) }
                            return (domain, result)
                        #endif
                    }
                }
                var all: [(String, Result<Outcome, LookupError>)] = []
                for await r in group { all.append(r) }
                return all
            }
            for (domain, result) in results {
                switch result {
                case .success(let o): if o.name != domain || o.urls.count != 2 { bad += 1 }
                case .failure(.temporary(let d)): if d != domain { bad += 1 }
                case .failure: bad += 1
                }
            }
        }
        print("corrupted: \(bad) of 8000")
    }
}
