package server

import (
	"strings"
	"testing"
	"time"

	"github.com/lbtrust/lb/config"
)

// TestReloadRefusesFleetChanges: the fleet block is fixed for the
// process's life; a reload that adds, removes or changes it is refused
// with a reason, and one that keeps it passes.
func TestReloadRefusesFleetChanges(t *testing.T) {
	fl := func(member string, ttl time.Duration) *config.Fleet {
		return &config.Fleet{Member: member, Replicas: 2, TTL: ttl,
			Etcd: &config.EtcdDiscovery{Endpoints: []string{"127.0.0.1:2379"}, Prefix: "/f/"}}
	}
	tests := []struct {
		name      string
		cur, next *config.Fleet
		refused   bool
	}{
		{"none to none", nil, nil, false},
		{"kept", fl("a", 5*time.Second), fl("a", 5*time.Second), false},
		{"added", nil, fl("a", 5*time.Second), true},
		{"removed", fl("a", 5*time.Second), nil, true},
		{"member renamed", fl("a", 5*time.Second), fl("b", 5*time.Second), true},
		{"ttl changed", fl("a", 5*time.Second), fl("a", 9*time.Second), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			problems := liveProblems(&config.Config{Fleet: tt.cur}, &config.Config{Fleet: tt.next})
			got := strings.Contains(strings.Join(problems, ";"), "fleet block needs a restart")
			if got != tt.refused {
				t.Errorf("liveProblems = %q, refused %v, want %v", problems, got, tt.refused)
			}
		})
	}
}
