package main

import (
	"fmt"
	"net/url"

	"go.etcd.io/etcd/server/v3/embed"

	"github.com/lbtrust/lb/internal/etcdtest"
	"github.com/lbtrust/lb/internal/freeport"
)

// etcdServer is one etcd member embedded in this process, as
// internal/etcdtest runs it for tests: 127.0.0.1 only, its own logging
// discarded, no fsync (its data directory is temporary).
type etcdServer struct {
	e    *embed.Etcd
	addr string // client address, 127.0.0.1:PORT
}

// startEtcd starts a one-member cluster with its data under dir and
// returns once it serves. A port picked free can be taken before etcd
// binds it, so a failed start is tried again on other ports.
func startEtcd(dir string) (*etcdServer, error) {
	var err error
	for try := range 5 {
		var addrs []string
		if addrs, err = freeport.Loopback(2); err != nil {
			return nil, err
		}
		var s *etcdServer
		if s, err = startEtcdOn(fmt.Sprintf("%s/etcd%d", dir, try), addrs[0], addrs[1]); err == nil {
			return s, nil
		}
	}
	return nil, fmt.Errorf("starting etcd: %w", err)
}

// startEtcdOn starts the member on the given client and peer addresses.
func startEtcdOn(dir, client, peer string) (*etcdServer, error) {
	e, err := etcdtest.Embed("sharedchecks", dir, url.URL{Scheme: "http", Host: client}, url.URL{Scheme: "http", Host: peer})
	if err != nil {
		return nil, err
	}
	return &etcdServer{e: e, addr: client}, nil
}

// stop stops the member and returns once its goroutines have ended.
func (s *etcdServer) stop() {
	s.e.Close()
	<-s.e.Server.StopNotify()
}
