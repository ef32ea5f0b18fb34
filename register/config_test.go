package register

import (
	"strings"
	"testing"
	"time"
)

func TestConfigDefaultsAndProblems(t *testing.T) {
	good := Config{Endpoints: []string{"127.0.0.1:2379"}, Prefix: "/lb/web/", Address: "10.0.0.5:8080"}
	got, err := good.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if got.Weight != DefaultWeight || got.TTL != DefaultTTL || got.CheckInterval != DefaultTTL/3 || got.DialTimeout != DefaultDialTimeout || got.Unanswered != DefaultUnanswered {
		t.Fatalf("defaults: %+v", got)
	}
	for _, tc := range []struct {
		name string
		edit func(*Config)
		err  string // "" for none
	}{
		{"canonical address", func(c *Config) { c.Address = "[::ffff:10.0.0.5]:8080" }, ""},
		{"ttl 2s", func(c *Config) { c.TTL = 2 * time.Second }, ""},
		{"check with port and query", func(c *Config) { c.Check = "http://127.0.0.1:9000/readyz?deep=1" }, ""},
		{"https check", func(c *Config) { c.Check = "https://backend.internal/readyz" }, ""},
		{"no endpoints", func(c *Config) { c.Endpoints = nil }, "no etcd endpoints"},
		{"blank endpoint", func(c *Config) { c.Endpoints = []string{" "} }, "an empty etcd endpoint"},
		{"no prefix", func(c *Config) { c.Prefix = "" }, "empty prefix"},
		{"no address", func(c *Config) { c.Address = "" }, "no address"},
		{"host name", func(c *Config) { c.Address = "web:80" }, "want IP:port"},
		{"port 0", func(c *Config) { c.Address = "10.0.0.5:0" }, "port 0"},
		{"negative weight", func(c *Config) { c.Weight = -1 }, "weight -1"},
		{"ttl too short", func(c *Config) { c.TTL = time.Second }, "at least 2s"},
		{"ttl not whole seconds", func(c *Config) { c.TTL = 2500 * time.Millisecond }, "whole seconds"},
		{"check interval too short", func(c *Config) { c.CheckInterval = time.Millisecond }, "at least 100ms"},
		{"check not http", func(c *Config) { c.Check = "tcp://127.0.0.1:80" }, "http:// or https://"},
		{"check without host", func(c *Config) { c.Check = "http:///readyz" }, "no host"},
		{"check with user", func(c *Config) { c.Check = "http://u:p@127.0.0.1/" }, "no user"},
		{"negative dial timeout", func(c *Config) { c.DialTimeout = -time.Second }, "dial timeout"},
		{"negative unanswered", func(c *Config) { c.Unanswered = -1 }, "unanswered checks -1: must be at least 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := good
			tc.edit(&c)
			_, err := c.withDefaults()
			switch {
			case tc.err == "" && err != nil:
				t.Fatal(err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("error %v, want one with %q", err, tc.err)
			}
		})
	}
}

func TestKeyIsPrefixAndCanonicalAddress(t *testing.T) {
	c := Config{Prefix: "/lb/web/", Address: "[::ffff:10.0.0.5]:8080"}
	if k := c.Key(); k != "/lb/web/10.0.0.5:8080" {
		t.Fatalf("key %q", k)
	}
}

func TestCheckTarget(t *testing.T) {
	for _, tc := range []struct{ in, addr, target string }{
		{"http://127.0.0.1:9000/readyz", "127.0.0.1:9000", "/readyz"},
		{"http://127.0.0.1", "127.0.0.1:80", "/"},
		{"https://backend.internal/r?x=1&y=2", "backend.internal:443", "/r?x=1&y=2"},
		{"http://[::1]:8080/a%20b", "[::1]:8080", "/a%20b"},
	} {
		addr, target, err := checkTarget(tc.in)
		if err != nil || addr != tc.addr || target != tc.target {
			t.Errorf("checkTarget(%q) = %q, %q, %v; want %q, %q", tc.in, addr, target, err, tc.addr, tc.target)
		}
	}
}
