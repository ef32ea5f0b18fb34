package nofile

import (
	"syscall"
	"testing"
)

func TestRaiseToHard(t *testing.T) {
	var before syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &before); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Setrlimit(syscall.RLIMIT_NOFILE, &before) })
	l, err := Raise(1)
	if err != nil {
		t.Fatal(err)
	}
	if l.Soft != before.Max || l.Hard != before.Max || l.RaisedHard {
		t.Errorf("Raise(1) = %+v, want soft = hard = %d, hard not raised", l, before.Max)
	}
}
