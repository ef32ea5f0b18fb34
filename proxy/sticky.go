package proxy

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lbtrust/lb/pool"
	"github.com/valyala/fasthttp"
)

// MinStickyKey is the least number of bytes a StickyOptions.Key holds.
const MinStickyKey = 16

// StickyOptions turn on sticky sessions for an Upstream: the first answer
// sets a cookie naming its backend; a later request carrying the cookie
// goes to that backend while it is HEALTHY, and is otherwise picked as
// any other request (and its answer sets the cookie anew).
//
// The cookie's value is 22 characters, the unpadded base64url form of the
// first 16 bytes of HMAC-SHA256(Key, "lb sticky" 0 pool 0 address): it
// never shows the backend's address, and without Key nobody can make a
// value that names a backend. A value that names no backend of the pool
// (forged, garbled, from another key or pool, or for a backend since
// removed) is ignored. The cookie has Path=/, HttpOnly and SameSite=Lax,
// Secure when the request came over TLS, and Max-Age when TTL is set. It
// is removed from the request sent to the backend.
type StickyOptions struct {
	// Cookie is the cookie's name, an HTTP token. Required.
	Cookie string
	// TTL is the cookie's Max-Age, in whole seconds; 0 makes a session
	// cookie.
	TTL time.Duration
	// Key signs the values, at least MinStickyKey bytes. Every LB that
	// should understand the same cookies needs the same Key; one drawn
	// at random per process makes them last as long as the process.
	Key []byte
}

// stickyTag is the signed name of one backend in one pool.
type stickyTag [16]byte

// stickyValueLen is the length of a cookie value: base64url of a tag.
const stickyValueLen = 22

// sticky is an upstream's compiled StickyOptions with the index of its
// pool's backends by tag, rebuilt when the pool's membership changes.
type sticky struct {
	cookie string
	maxAge int // seconds; 0: a session cookie
	key    []byte
	pool   *pool.Pool
	index  atomic.Pointer[stickyIndex]
	build  sync.Mutex // one rebuild at a time
}

// stickyIndex maps tags to the pool's backends and back, for one
// membership version of the pool.
type stickyIndex struct {
	version uint64
	byTag   map[stickyTag]*pool.Backend
	tags    map[*pool.Backend]stickyTag
}

// newSticky compiles o for pool p; nil when o is nil.
func newSticky(o *StickyOptions, p *pool.Pool) *sticky {
	if o == nil {
		return nil
	}
	return &sticky{
		cookie: o.Cookie,
		maxAge: int(o.TTL / time.Second),
		key:    append([]byte(nil), o.Key...),
		pool:   p,
	}
}

// tagOf is the tag of the backend at address in s's pool.
func (s *sticky) tagOf(address string) stickyTag {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("lb sticky\x00"))
	m.Write([]byte(s.pool.Name()))
	m.Write([]byte{0})
	m.Write([]byte(address))
	var t stickyTag
	copy(t[:], m.Sum(nil))
	return t
}

// current returns the index of the pool's backends as they are now,
// rebuilding it (O(n) HMACs, off the steady path) when a backend joined
// or was forgotten. While one goroutine rebuilds, the others use the
// previous index: a backend it lacks is simply not found, and its
// request is picked as without a cookie.
func (s *sticky) current() *stickyIndex {
	v := s.pool.MembersVersion()
	idx := s.index.Load()
	if idx != nil && idx.version == v {
		return idx
	}
	if idx != nil {
		if !s.build.TryLock() {
			return idx
		}
	} else {
		s.build.Lock()
	}
	defer s.build.Unlock()
	if idx = s.index.Load(); idx != nil && idx.version == v {
		return idx
	}
	bs := s.pool.Backends()
	idx = &stickyIndex{
		version: v,
		byTag:   make(map[stickyTag]*pool.Backend, len(bs)),
		tags:    make(map[*pool.Backend]stickyTag, len(bs)),
	}
	for _, b := range bs {
		t := s.tagOf(b.Address())
		idx.byTag[t], idx.tags[b] = b, t
	}
	s.index.Store(idx)
	return idx
}

// requestTag decodes the request's cookie; false when it has none or one
// of the wrong shape. It does not allocate.
func (s *sticky) requestTag(ctx *fasthttp.RequestCtx) (stickyTag, bool) {
	var t stickyTag
	v := ctx.Request.Header.Cookie(s.cookie)
	if len(v) != stickyValueLen {
		return t, false
	}
	n, err := base64.RawURLEncoding.Decode(t[:], v)
	return t, err == nil && n == len(t)
}

// backendOf returns the backend the request's cookie names, or nil. It
// does not allocate (except to rebuild the index, see current).
func (s *sticky) backendOf(ctx *fasthttp.RequestCtx) *pool.Backend {
	t, ok := s.requestTag(ctx)
	if !ok {
		return nil
	}
	return s.current().byTag[t]
}

// stick sets the cookie naming b on ctx's answer, unless the request's
// cookie names it already. b nil (no backend answered) sets nothing.
func (s *sticky) stick(ctx *fasthttp.RequestCtx, b *pool.Backend) {
	if b == nil {
		return
	}
	t, ok := s.current().tags[b]
	if !ok {
		return // forgotten meanwhile
	}
	if have, ok := s.requestTag(ctx); ok && have == t {
		return
	}
	var v [stickyValueLen]byte
	encodeTag(v[:], t)
	c := fasthttp.AcquireCookie()
	defer fasthttp.ReleaseCookie(c)
	c.SetKey(s.cookie)
	c.SetValueBytes(v[:])
	c.SetPath("/")
	c.SetHTTPOnly(true)
	c.SetSameSite(fasthttp.CookieSameSiteLaxMode)
	c.SetSecure(ctx.IsTLS())
	if s.maxAge > 0 {
		c.SetMaxAge(s.maxAge)
	}
	ctx.Response.Header.SetCookie(c)
}

// stick sets up's sticky cookie for b on ctx's answer (see sticky.stick);
// nothing when up is not sticky.
func (up *upstream) stick(ctx *fasthttp.RequestCtx, b *pool.Backend) {
	if up.sticky != nil {
		up.sticky.stick(ctx, b)
	}
}

// stripSticky removes up's sticky cookie from req, the request going to
// the backend; nothing when up is not sticky.
func (up *upstream) stripSticky(req *fasthttp.Request) {
	if up.sticky != nil {
		req.Header.DelCookie(up.sticky.cookie)
	}
}

// encodeTag writes the cookie value of t into dst (stickyValueLen bytes).
func encodeTag(dst []byte, t stickyTag) {
	base64.RawURLEncoding.Encode(dst, t[:])
}
