internal import HTTPTypes
internal import HummingbirdCore
internal import NIOCore
internal import NIOHTTPTypes

/// Protects the event loops from abusive clients, per connection, before the router sees anything:
/// - a request must arrive completely within `readTimeout` (a client dribbling bytes is cut off;
///   it never holds a thread, NIO is event-driven, but it must not hold a connection forever);
/// - a declared Content-Length above `maxContentLength` is answered 413 at once and the
///   connection closed, so the body is never read;
/// - more than `maxHeaderCount` header fields is answered 431 and the connection closed.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let readTimeout: TimeAmount
    private let maxContentLength: Int
    private let maxHeaderCount: Int
    private let tooLargeBody: [UInt8]
    private var deadline: Scheduled<Void>?
    private var refused = false

    init(readTimeout: TimeAmount, maxContentLength: Int, maxHeaderCount: Int, tooLargeBody: [UInt8]) {
        self.readTimeout = readTimeout
        self.maxContentLength = maxContentLength
        self.maxHeaderCount = maxHeaderCount
        self.tooLargeBody = tooLargeBody
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            if head.headerFields.count > maxHeaderCount {
                refuse(
                    context, status: .init(code: 431, reasonPhrase: "Request Header Fields Too Large"),
                    body: Array("more than \(maxHeaderCount) header fields\n".utf8), type: "text/plain; charset=utf-8")
                return
            }
            if let declared = head.headerFields[.contentLength].flatMap({ Int($0) }), declared > maxContentLength {
                refuse(context, status: .contentTooLarge, body: tooLargeBody, type: "application/xml; charset=utf-8")
                return
            }
        case .end:
            deadline?.cancel()
            deadline = nil
        case .body:
            break
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { arm(context) }
        context.write(data, promise: promise)
    }

    /// (Re)starts the clock for the next request on this connection.
    private func arm(_ context: ChannelHandlerContext) {
        deadline?.cancel()
        let channel = context.channel
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: readTimeout) {
            channel.close(promise: nil)
        }
    }

    private func refuse(_ context: ChannelHandlerContext, status: HTTPResponse.Status, body: [UInt8], type: String) {
        refused = true
        deadline?.cancel()
        var fields = HTTPFields()
        fields[.contentType] = type
        fields[.contentLength] = String(body.count)
        fields[.connection] = "close"
        context.write(wrapOutboundOut(.head(HTTPResponse(status: status, headerFields: fields))), promise: nil)
        context.write(wrapOutboundOut(.body(context.channel.allocator.buffer(bytes: body))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            channel.close(promise: nil)
        }
    }
}
