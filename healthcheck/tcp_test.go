package healthcheck

import (
	"net"
	"strconv"
	"testing"

	"github.com/lbtrust/lb/config"
)

func TestTCP(t *testing.T) {
	srv := newRawServer(t, func(net.Conn) {})
	s := quick
	s.Type = TypeTCP

	t.Run("pass", func(t *testing.T) {
		res := probe(t, s, srv.addr)
		if !res.Passed() || res.Code != 0 || res.Err != nil || res.Latency <= 0 {
			t.Fatalf("got %+v, want check_passed", res)
		}
	})
	t.Run("refused", func(t *testing.T) {
		res := probe(t, s, closedAddr(t))
		if res.Outcome != OutcomeConnectionRefused || res.Err == nil {
			t.Fatalf("got %s %v, want connection_refused", res.Outcome, res.Err)
		}
	})
	t.Run("port override", func(t *testing.T) {
		_, port, _ := net.SplitHostPort(srv.addr)
		o := s
		o.Port, _ = strconv.Atoi(port)
		if res := probe(t, o, closedAddr(t)); !res.Passed() {
			t.Fatalf("got %s %v, want check_passed via the port override", res.Outcome, res.Err)
		}
	})
	t.Run("http fields ignored", func(t *testing.T) {
		o := s
		o.Path = "not validated for tcp"
		o.ExpectedStatus = []config.StatusRange{{Min: 0, Max: 0}}
		if res := probe(t, o, srv.addr); !res.Passed() {
			t.Fatalf("got %s %v", res.Outcome, res.Err)
		}
	})
}
