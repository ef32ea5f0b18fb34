package server

import (
	"crypto/rand"

	"github.com/lbtrust/lb/balancer"
	"github.com/lbtrust/lb/config"
	"github.com/lbtrust/lb/proxy"
)

// stickyKeyBytes is the size of the random key that signs sticky cookies
// of pools without a key_file, drawn once per process.
const stickyKeyBytes = 32

// policyOf returns a fresh balancer policy for pc: consistent_hash with
// the pool's load_factor, any other by name (validatePool has checked it).
func policyOf(pc *config.Pool) balancer.Policy {
	if pc.Algorithm == config.AlgorithmConsistentHash {
		return balancer.NewConsistentHash(pc.Hash.LoadFactor)
	}
	p, _ := balancer.New(pc.Algorithm)
	return p
}

// samePolicy reports whether a reload from prev to pc keeps the pool's
// policy as it is.
func samePolicy(prev, pc *config.Pool) bool {
	return prev.Algorithm == pc.Algorithm && prev.Hash.LoadFactor == pc.Hash.LoadFactor
}

// keySource is what the proxy hashes for pc's requests: nothing unless
// the pool hashes.
func keySource(pc *config.Pool) proxy.KeySource {
	if pc.Algorithm != config.AlgorithmConsistentHash {
		return proxy.KeySource{}
	}
	kinds := map[string]proxy.KeyKind{
		config.HashKeyClientIP: proxy.KeyClientIP,
		config.HashKeyPath:     proxy.KeyPath,
		config.HashKeyHeader:   proxy.KeyHeader,
		config.HashKeyCookie:   proxy.KeyCookie,
		config.HashKeyQuery:    proxy.KeyQuery,
	}
	return proxy.KeySource{Kind: kinds[pc.Hash.Source], Name: pc.Hash.Name}
}

// stickyOptionsLocked returns the proxy's sticky settings of pc (nil
// without a sticky block): its key_file's content, else the process's
// random key, drawn at the first sticky pool and kept across reloads so
// that a reload does not end every session. lb.mu is held.
func (lb *LB) stickyOptionsLocked(pc *config.Pool) *proxy.StickyOptions {
	s := pc.Sticky
	if s == nil {
		return nil
	}
	key := []byte(s.Key)
	if len(key) == 0 {
		if lb.stickyKey == nil {
			lb.stickyKey = make([]byte, stickyKeyBytes)
			_, _ = rand.Read(lb.stickyKey) // crypto/rand.Read never fails
		}
		key = lb.stickyKey
	}
	return &proxy.StickyOptions{Cookie: s.Cookie, TTL: s.TTL, Key: key}
}
