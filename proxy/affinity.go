package proxy

import (
	"time"

	"github.com/lbtrust/lb/pool"
	"github.com/valyala/fasthttp"
)

// KeyKind says what of a request consistent hashing hashes.
type KeyKind uint8

// The key kinds of a KeySource.
const (
	// KeyNone: no key (every policy but consistent_hash).
	KeyNone KeyKind = iota
	// KeyClientIP: the direct peer's IP address (4 bytes for IPv4).
	KeyClientIP
	// KeyPath: the normalized path, without the query.
	KeyPath
	// KeyHeader: the value of the request header Name.
	KeyHeader
	// KeyCookie: the value of the request cookie Name.
	KeyCookie
	// KeyQuery: the value of the query parameter Name.
	KeyQuery
)

// KeySource is what an Upstream hashes into each request's key (see
// pool.Avoid.SetKey): a request without it (an absent or empty header,
// cookie or parameter) has no key, and the pool's policy picks as for any
// keyless request (consistent_hash: round robin). The zero value is
// KeyNone.
type KeySource struct {
	Kind KeyKind
	// Name is the header, cookie or query parameter name (KeyHeader,
	// KeyCookie, KeyQuery).
	Name string
}

// key returns the request key of ctx under k, or pool.NoKey. It does not
// allocate.
func (k *KeySource) key(ctx *fasthttp.RequestCtx) uint64 {
	var v []byte
	switch k.Kind {
	case KeyNone:
		return pool.NoKey
	case KeyClientIP:
		ip := ctx.RemoteIP()
		if v4 := ip.To4(); v4 != nil {
			ip = v4
		}
		v = ip
	case KeyPath:
		v = ctx.Path()
	case KeyHeader:
		v = ctx.Request.Header.Peek(k.Name)
	case KeyCookie:
		v = ctx.Request.Header.Cookie(k.Name)
	case KeyQuery:
		v = ctx.QueryArgs().Peek(k.Name)
	}
	if len(v) == 0 {
		return pool.NoKey
	}
	return pool.HashKey(v)
}

// first acquires the first backend of a request on up at now: the backend
// its sticky cookie names while that one is HEALTHY, else the pool's pick
// for the request's key (which avoid then carries to every retry). nil
// when no backend is eligible.
func (up *upstream) first(ctx *fasthttp.RequestCtx, avoid *pool.Avoid, now time.Time) *pool.Backend {
	if up.sticky != nil {
		if b := up.sticky.backendOf(ctx); b != nil && up.pool.AcquireBackendAt(b, now) {
			return b
		}
	}
	avoid.SetKey(up.key.key(ctx))
	return up.pool.AcquireAt(avoid, now)
}
