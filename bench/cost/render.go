package main

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// The templates under bench/examples are working configurations with
// fixed loopback addresses; render replaces each by the address the tool
// picked for that role.
const (
	placeholderListen = "127.0.0.1:8081" // the target's listener
	placeholderAdmin  = "127.0.0.1:9901" // lb's admin listener
	placeholderFirst  = 9001             // backend b1's port; b2 is 9002, ...
)

// loopbackAddr matches a 127.0.0.1:PORT address, the port's digits all
// taken (so 127.0.0.1:90011 is not 127.0.0.1:9001).
var loopbackAddr = regexp.MustCompile(`127\.0\.0\.1:[0-9]+`)

// placeholders maps the template addresses to actual ones: the listener,
// the admin listener (ignored when empty) and the backends in order.
func placeholders(listen, admin string, backends []string) map[string]string {
	m := map[string]string{placeholderListen: listen}
	if admin != "" {
		m[placeholderAdmin] = admin
	}
	for i, b := range backends {
		m["127.0.0.1:"+strconv.Itoa(placeholderFirst+i)] = b
	}
	return m
}

// render replaces every 127.0.0.1:PORT address in tmpl by subst's value
// for it. A loopback address subst does not know is an error (a template
// that would send traffic somewhere unplanned), and so is a key of
// required that tmpl never mentions (a template that would not use a
// backend, or listen elsewhere).
func render(tmpl string, subst map[string]string, required []string) (string, error) {
	var unknown []string
	seen := map[string]bool{}
	out := loopbackAddr.ReplaceAllStringFunc(tmpl, func(a string) string {
		v, ok := subst[a]
		if !ok {
			unknown = append(unknown, a)
			return a
		}
		seen[a] = true
		return v
	})
	if len(unknown) > 0 {
		return "", fmt.Errorf("address %s is not one the tool fills in (%s)", unknown[0], known(subst))
	}
	for _, r := range required {
		if !seen[r] {
			return "", fmt.Errorf("the template never uses %s (%s)", r, known(subst))
		}
	}
	return out, nil
}

// known lists subst's keys, sorted, for an error message.
func known(subst map[string]string) string {
	keys := make([]string, 0, len(subst))
	for k := range subst {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return "it fills in " + strings.Join(keys, ", ")
}
