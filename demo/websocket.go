package demo

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"io"
	"net"

	"github.com/valyala/fasthttp"
)

// WebSocketPath is where a demo backend accepts WebSockets: every text or
// binary message is echoed back, as received, on the same socket.
const WebSocketPath = "/ws"

// MaxWebSocketFrame bounds one frame's payload the echo accepts, in bytes;
// a larger one is answered with close code 1009 (message too big).
const MaxWebSocketFrame = 1 << 20

// websocketGUID is RFC 6455's handshake constant.
const websocketGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// WebSocket opcodes (RFC 6455 section 5.2).
const (
	opClose = 0x8
	opPing  = 0x9
	opPong  = 0xA
)

// serveWebSocket answers the handshake of a WebSocket (RFC 6455, version
// 13) with 101, tagged with X-Backend like every answer, and hands the
// connection to echo; a request that is not a valid handshake gets 400.
func (b *Backend) serveWebSocket(ctx *fasthttp.RequestCtx) {
	h := &ctx.Request.Header
	key := h.Peek("Sec-WebSocket-Key")
	if !ctx.IsGet() || !h.ConnectionUpgrade() || string(h.Peek("Sec-WebSocket-Version")) != "13" || len(key) == 0 {
		ctx.SetStatusCode(fasthttp.StatusBadRequest)
		ctx.SetBodyString(`{"error":"not a WebSocket handshake"}`)
		return
	}
	sum := sha1.Sum(append(append([]byte(nil), key...), websocketGUID...))
	ctx.Response.Header.SetContentTypeBytes(nil)
	ctx.SetStatusCode(fasthttp.StatusSwitchingProtocols)
	ctx.Response.Header.Set("Upgrade", "websocket")
	ctx.Response.Header.Set("Connection", "Upgrade")
	ctx.Response.Header.Set("Sec-WebSocket-Accept", base64.StdEncoding.EncodeToString(sum[:]))
	b.served.Add(1)
	ctx.Hijack(b.echo)
}

// echo runs one WebSocket: data frames come back as received (fragments
// included), a ping gets its pong, a close is answered and ends it. The
// connection is tracked so Close can end it.
func (b *Backend) echo(c net.Conn) {
	raw := c
	if u, ok := c.(interface{ UnsafeConn() net.Conn }); ok {
		raw = u.UnsafeConn() // fasthttp's wrapper does not close
	}
	if !b.track(raw) {
		return
	}
	defer b.untrack(raw)
	br := bufio.NewReader(c)
	for {
		first, payload, code := readFrame(br)
		if code != 0 {
			var p [2]byte
			binary.BigEndian.PutUint16(p[:], code)
			writeFrame(c, 0x80|opClose, p[:])
			return
		}
		switch op := first & 0x0f; op {
		case opClose:
			writeFrame(c, 0x80|opClose, payload)
			return
		case opPing:
			if writeFrame(c, 0x80|opPong, payload) != nil {
				return
			}
		case opPong:
		default:
			if writeFrame(c, first&0x8f, payload) != nil {
				return
			}
		}
	}
}

// readFrame reads one client frame and unmasks it. A non-zero code is the
// close code to end the socket with: 1002 for a protocol error (an
// unmasked frame), 1009 for a frame over MaxWebSocketFrame, 1001 when the
// connection ended.
func readFrame(br *bufio.Reader) (first byte, payload []byte, code uint16) {
	var h [2]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		return 0, nil, 1001
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var l [2]byte
		if _, err := io.ReadFull(br, l[:]); err != nil {
			return 0, nil, 1001
		}
		n = uint64(binary.BigEndian.Uint16(l[:]))
	case 127:
		var l [8]byte
		if _, err := io.ReadFull(br, l[:]); err != nil {
			return 0, nil, 1001
		}
		n = binary.BigEndian.Uint64(l[:])
	}
	if h[1]&0x80 == 0 {
		return 0, nil, 1002
	}
	if n > MaxWebSocketFrame {
		// Read it all (up to a bound) so the close frame is not lost to a
		// reset of a socket closed with bytes unread.
		if n <= 16*MaxWebSocketFrame {
			io.CopyN(io.Discard, br, int64(n)+4)
		}
		return 0, nil, 1009
	}
	var mask [4]byte
	if _, err := io.ReadFull(br, mask[:]); err != nil {
		return 0, nil, 1001
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(br, payload); err != nil {
		return 0, nil, 1001
	}
	for i := range payload {
		payload[i] ^= mask[i%4]
	}
	return h[0], payload, 0
}

// writeFrame writes one unmasked server frame.
func writeFrame(w io.Writer, first byte, payload []byte) error {
	hdr := make([]byte, 2, 10+len(payload))
	hdr[0] = first
	switch n := len(payload); {
	case n < 126:
		hdr[1] = byte(n)
	case n <= 0xffff:
		hdr[1] = 126
		hdr = binary.BigEndian.AppendUint16(hdr, uint16(n))
	default:
		hdr[1] = 127
		hdr = binary.BigEndian.AppendUint64(hdr, uint64(n))
	}
	_, err := w.Write(append(hdr, payload...))
	return err
}
