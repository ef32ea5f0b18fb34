package healthcheck

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"
)

// TestTemplate: a template validates the spec once; its checkers share it,
// probe as New's would, and still reject what only they can get wrong.
func TestTemplate(t *testing.T) {
	if _, err := NewTemplate(Spec{Path: "no-slash"}); !errors.Is(err, ErrInvalidSpec) {
		t.Fatalf("NewTemplate(bad path) = %v, want ErrInvalidSpec", err)
	}
	spec := Spec{Interval: 20 * time.Second, Timeout: 10 * time.Second}
	tmpl, err := NewTemplate(spec)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tmpl.New("no-port", &recorder{}, nil); !errors.Is(err, ErrInvalidSpec) {
		t.Fatalf("New(no-port) = %v, want ErrInvalidSpec", err)
	}
	if _, err := tmpl.New("127.0.0.1:1", nil, nil); !errors.Is(err, ErrInvalidSpec) {
		t.Fatalf("New(nil Reporter) = %v, want ErrInvalidSpec", err)
	}
	srv := statusServer(t, 200, "ok")
	a, err := tmpl.New(hostPort(srv), &recorder{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := tmpl.New("127.0.0.1:1", &recorder{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.spec != b.spec || a.spec != &tmpl.spec {
		t.Fatal("checkers of one template hold specs of their own")
	}
	alone := newChecker(t, spec, hostPort(srv), nil)
	if !reflect.DeepEqual(a.Spec(), alone.Spec()) || !reflect.DeepEqual(tmpl.Spec(), alone.Spec()) {
		t.Fatalf("template spec %+v, New's %+v", a.Spec(), alone.Spec())
	}
	if res := a.Probe(context.Background()); !res.Passed() {
		t.Fatalf("probe: %s %v", res.Outcome, res.Err)
	}
}
