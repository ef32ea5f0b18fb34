package config

import (
	"math"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Affinity: a pool's hash block (what consistent_hash hashes) and its
// sticky block (session cookies). See README "Consistent hashing" and
// "Sticky sessions".

// Hash key sources, the part of a hash block's key before any ":NAME".
const (
	HashKeyClientIP = "client_ip" // the direct peer's IP address
	HashKeyPath     = "path"      // the normalized request path, without the query
	HashKeyHeader   = "header"    // "header:NAME": a request header's value
	HashKeyCookie   = "cookie"    // "cookie:NAME": a request cookie's value
	HashKeyQuery    = "query"     // "query:NAME": a query parameter's value
)

// Defaults of a hash block.
const (
	// DefaultHashKey is key's default: the client's address, as NGINX's
	// ip_hash and HAProxy's "balance source".
	DefaultHashKey = HashKeyClientIP
	// DefaultLoadFactor is load_factor's default: no backend takes more
	// than 1.25 times its fair share of the pool's requests in flight
	// (Mirrokni et al.'s and HAProxy's hash-balance-factor suggestion).
	// It equals balancer.DefaultLoadFactor.
	DefaultLoadFactor = 1.25
	// MaxLoadFactor bounds load_factor; above it the bound never binds
	// in practice.
	MaxLoadFactor = 100.0
)

// Hash is a pool's `hash { }` block: what consistent_hash hashes. A pool
// with algorithm = "consistent_hash" and no block gets the defaults; a
// block is refused under any other algorithm, and the zero Hash is that
// of a pool with another algorithm.
type Hash struct {
	// Source is where the key comes from ("key" before any ":"): one of
	// the HashKey* constants. Default HashKeyClientIP.
	Source string
	// Name is the header, cookie or query parameter of a "header:",
	// "cookie:" or "query:" key; "" for client_ip and path.
	Name string
	// LoadFactor bounds each backend's requests in flight to this many
	// times its fair share ("load_factor", default 1.25, above 1 and at
	// most MaxLoadFactor).
	LoadFactor float64
	// DeclRange is where the block is declared (empty without one).
	DeclRange hcl.Range
}

// Key is the key as written: "client_ip", "header:X-User", ...
func (h Hash) Key() string {
	if h.Name == "" {
		return h.Source
	}
	return h.Source + ":" + h.Name
}

// Defaults of a sticky block.
const (
	// DefaultStickyCookiePrefix is the default cookie name's prefix: a
	// pool's cookie is "lb_" followed by the pool's name, so that two
	// pools never read each other's.
	DefaultStickyCookiePrefix = "lb_"
	// DefaultStickyTTL is ttl's default: 0, a browser-session cookie (no
	// Max-Age), as HAProxy's and Traefik's.
	DefaultStickyTTL = time.Duration(0)
	// MinStickyKeyBytes is the least a key_file may hold.
	MinStickyKeyBytes = 16
	// maxStickyKeyFileSize bounds a key_file.
	maxStickyKeyFileSize = 4096
)

// Sticky is a pool's `sticky { }` block: session affinity by cookie. The
// first answer sets a cookie naming its backend by an opaque, signed
// value; later requests carrying it go to that backend while it is
// HEALTHY. Nil when the pool has no block.
type Sticky struct {
	// Cookie is the cookie's name ("cookie", default "lb_" + the pool's
	// name); an HTTP token.
	Cookie string
	// TTL is the cookie's Max-Age ("ttl", default 0: a session cookie
	// that the browser drops when it closes). At least a second when set.
	TTL time.Duration
	// Key signs the cookie's value (the content of "key_file", trailing
	// line break trimmed, at least MinStickyKeyBytes). Empty without a
	// key_file: the LB then draws a random key when it starts, so
	// cookies do not survive a restart and are not understood by another
	// LB instance.
	Key Secret
	// KeyFile is key_file as written ("" for none).
	KeyFile string
	// DeclRange is where the block is declared.
	DeclRange hcl.Range
}

// hashBlock is a hash block inside a pool.
type hashBlock struct {
	Key        hcl.Expression `hcl:"key,optional"`
	LoadFactor hcl.Expression `hcl:"load_factor,optional"`

	DeclRange hcl.Range `hcl:",def_range"`
}

// stickyBlock is a sticky block inside a pool.
type stickyBlock struct {
	Cookie  hcl.Expression `hcl:"cookie,optional"`
	TTL     hcl.Expression `hcl:"ttl,optional"`
	KeyFile hcl.Expression `hcl:"key_file,optional"`

	DeclRange hcl.Range `hcl:",def_range"`
}

// decodeHashBlock decodes a pool's hash block (nil: none) for a pool whose
// algorithm is algorithm.
func decodeHashBlock(b *hashBlock, algorithm string) (Hash, hcl.Diagnostics) {
	if b == nil && algorithm != AlgorithmConsistentHash {
		return Hash{}, nil
	}
	h := Hash{Source: DefaultHashKey, LoadFactor: DefaultLoadFactor}
	if b == nil {
		return h, nil
	}
	h.DeclRange = b.DeclRange
	var diags hcl.Diagnostics
	if algorithm != "" && algorithm != AlgorithmConsistentHash {
		diags = append(diags, errorf(b.DeclRange, "Hash block without consistent hashing",
			"A hash block says what algorithm = %q hashes, but this pool's algorithm is %q: set algorithm = %q, or remove the hash block.",
			AlgorithmConsistentHash, algorithm, AlgorithmConsistentHash))
	}
	key, moreDiags := decodeText("key", b.Key, DefaultHashKey)
	diags = append(diags, moreDiags...)
	if !moreDiags.HasErrors() {
		var ok bool
		if h.Source, h.Name, ok = parseHashKey(key); !ok {
			diags = append(diags, errorf(b.Key.Range(), "Invalid hash key",
				"key = %q is not a key source; use \"client_ip\", \"path\", \"header:NAME\", \"cookie:NAME\" or \"query:NAME\" (such as \"header:X-User-Id\"; header and cookie names are HTTP tokens).",
				key))
		}
	}
	lf, set, moreDiags := decodeValue[float64](b.LoadFactor)
	diags = append(diags, moreDiags...)
	switch {
	case !set:
	case !(lf > 1) || lf > MaxLoadFactor || math.IsNaN(lf):
		diags = append(diags, errorf(b.LoadFactor.Range(), "Value out of range",
			"load_factor must be above 1 and at most %g; it is %g. It is how many times its fair share of the requests in flight one backend may take (1.25 lets a backend take 25%% more than the mean); remove it for the default, %g.",
			MaxLoadFactor, lf, DefaultLoadFactor))
	default:
		h.LoadFactor = lf
	}
	return h, diags
}

// parseHashKey splits a hash key into its source and name.
func parseHashKey(key string) (source, name string, ok bool) {
	source, name, hasName := strings.Cut(key, ":")
	switch source {
	case HashKeyClientIP, HashKeyPath:
		return source, "", !hasName
	case HashKeyHeader, HashKeyCookie:
		return source, name, hasName && isToken(name)
	case HashKeyQuery:
		return source, name, hasName && name != ""
	}
	return "", "", false
}

// decodeStickyBlock decodes a pool's sticky block (nil: none) for the
// pool named pool.
func decodeStickyBlock(b *stickyBlock, pool string) (*Sticky, hcl.Diagnostics) {
	if b == nil {
		return nil, nil
	}
	s := &Sticky{DeclRange: b.DeclRange}
	var diags, moreDiags hcl.Diagnostics
	s.Cookie, moreDiags = decodeText("cookie", b.Cookie, DefaultStickyCookiePrefix+pool)
	diags = append(diags, moreDiags...)
	if !moreDiags.HasErrors() && !isToken(s.Cookie) {
		rng := b.DeclRange
		if written(b.Cookie) {
			rng = b.Cookie.Range()
		}
		diags = append(diags, errorf(rng, "Invalid cookie name",
			"The sticky cookie's name %q is not an HTTP token (letters, digits and !#$%%&'*+-.^_`|~ only): write cookie = \"lb_sticky\" or another such name.",
			s.Cookie))
	}
	s.TTL, moreDiags = decodeDelay("ttl", b.TTL, DefaultStickyTTL, "make a session cookie, which the browser drops when it closes")
	diags = append(diags, moreDiags...)
	if s.TTL > 0 && s.TTL < time.Second {
		diags = append(diags, errorf(b.TTL.Range(), "Value out of range",
			"ttl is the cookie's Max-Age, counted in whole seconds: make it at least \"1s\", or \"0s\" for a session cookie; it is %s.", s.TTL))
	}
	s.KeyFile, moreDiags = decodeText("key_file", b.KeyFile, "")
	diags = append(diags, moreDiags...)
	if s.KeyFile == "" {
		return s, diags
	}
	full := besideConfig(s.KeyFile, b.KeyFile.Range())
	raw, err := readSmallRegularFile(full, maxStickyKeyFileSize)
	if err != nil {
		return s, append(diags, errorf(b.KeyFile.Range(), "Cannot read key file",
			"%v. key_file must name a readable regular file (at most %d bytes) holding the secret that signs sticky cookies; a relative path is taken from the configuration file's directory.",
			err, maxStickyKeyFileSize))
	}
	s.Key = Secret(strings.TrimRight(string(raw), "\r\n"))
	if len(s.Key) < MinStickyKeyBytes {
		diags = append(diags, errorf(b.KeyFile.Range(), "Key file too short",
			"%s holds %d bytes; a sticky key needs at least %d (such as the output of: head -c 32 /dev/urandom | base64). Every LB that should understand the same cookies uses the same file.",
			full, len(s.Key), MinStickyKeyBytes))
	}
	return s, diags
}

// isToken reports whether s is a non-empty HTTP token (RFC 9110 §5.6.2).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
