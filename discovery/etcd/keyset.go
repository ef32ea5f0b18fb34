package etcd

import (
	"maps"
	"slices"

	"go.uber.org/zap"

	"github.com/lbtrust/lb/discovery"
	"github.com/lbtrust/lb/discovery/etcdvalue"
)

// keySet is the prefix as last seen: each key with a good value and its
// target. Not safe for concurrent use.
type keySet struct {
	keys map[string]discovery.Target
	log  *zap.Logger
}

func newKeySet(log *zap.Logger) *keySet {
	return &keySet{keys: map[string]discovery.Target{}, log: log}
}

// put records key's new value; a bad value is logged with its key and
// removes the key.
func (k *keySet) put(key string, val []byte) {
	t, err := etcdvalue.Parse(val)
	if err != nil {
		k.log.Warn("etcd discovery skips a key with a bad value", zap.String("key", key), zap.ByteString("value", truncate(val)), zap.Error(err))
		delete(k.keys, key)
		return
	}
	k.keys[key] = t
}

// delete forgets key.
func (k *keySet) delete(key string) { delete(k.keys, key) }

// targets returns the set in a new slice, normalized; of two keys with
// one address, the key that sorts first gives the weight.
func (k *keySet) targets() []discovery.Target {
	out := make([]discovery.Target, 0, len(k.keys))
	for _, key := range slices.Sorted(maps.Keys(k.keys)) {
		out = append(out, k.keys[key])
	}
	return discovery.Normalize(out)
}

// truncate bounds a value quoted in a log line.
func truncate(b []byte) []byte {
	const max = 256
	if len(b) > max {
		return b[:max]
	}
	return b
}
