// Package nofile raises the process's limit on open file descriptors
// (RLIMIT_NOFILE) for benchmarks that hold thousands of sockets. Child
// processes started afterwards inherit the raised limit.
package nofile

import (
	"fmt"
	"syscall"
)

// Limit is the RLIMIT_NOFILE the process ends up with.
type Limit struct {
	Soft, Hard uint64
	// RaisedHard is set when the hard limit was below what was asked and
	// was raised (this needs CAP_SYS_RESOURCE, e.g. root).
	RaisedHard bool
}

// Raise sets the soft limit to the hard limit, and, when the hard limit
// is below need, first tries to raise both to need. It fails, saying
// what to do, when the limit stays below need. syscall.Setrlimit is
// used (not golang.org/x/sys/unix) so that the Go runtime passes the new
// limit on to child processes instead of restoring the one the process
// started with.
func Raise(need uint64) (Limit, error) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return Limit{}, err
	}
	raised := false
	if rl.Max < need {
		up := syscall.Rlimit{Cur: need, Max: need}
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &up); err != nil {
			return Limit{Soft: rl.Cur, Hard: rl.Max}, fmt.Errorf(
				"RLIMIT_NOFILE hard limit %d is below the %d file descriptors needed and this process cannot raise it (%w): "+
					"raise it (ulimit -Hn %d as root, or nofile in /etc/security/limits.conf) or ask for less", rl.Max, need, err, need)
		}
		rl, raised = up, true
	}
	rl.Cur = rl.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return Limit{}, err
	}
	return Limit{Soft: rl.Cur, Hard: rl.Max, RaisedHard: raised}, nil
}
