package main

import (
	"debug/buildinfo"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/lbtrust/lb/internal/buildrev"
)

// peer is one kind of target: where its program is, its configuration
// template, and how to run it on one core.
type peer struct {
	name string // lb, haproxy, nginx
	// program is looked up on PATH, then in /usr/sbin and /sbin (not on a
	// user's PATH on Debian); "" for lb, which is built or given by -lb,
	// and for a self peer.
	program string
	// self is a peer this tool runs itself (bare: its `bare` subcommand).
	self bool
	// install is how to get it on Debian.
	install string
	// template is its configuration under bench/examples.
	template string
	// admin is whether the template has lb's admin listener.
	admin bool
	// oneCore says what keeps it to one core, besides the affinity.
	oneCore string
	// env is added to its environment.
	env []string
	// argv is its command line, given its program, the rendered
	// configuration file and a directory of its own.
	argv func(program, conf, dir string) []string
	// version asks the program its version (the first line of the output
	// is kept).
	version []string
}

// peers are the targets the tool knows, in the default order.
func peers() []peer {
	return []peer{
		{
			name: "lb", template: "lb-cost.hcl", admin: true,
			oneCore: "GOMAXPROCS=1",
			env:     []string{"GOMAXPROCS=1"},
			argv: func(program, conf, _ string) []string {
				return []string{program, "-config", conf, "-log-level", "warn"}
			},
		},
		{
			// lb as above with a JSON access log to a file: -targets
			// lb,lb-accesslog alternates the two within each round, and
			// the summary gives the ratio.
			name: "lb-accesslog", template: "lb-cost-accesslog.hcl", admin: true,
			oneCore: "GOMAXPROCS=1",
			env:     []string{"GOMAXPROCS=1"},
			argv: func(program, conf, _ string) []string {
				return []string{program, "-config", conf, "-log-level", "warn"}
			},
		},
		{
			name: "haproxy", program: "haproxy", install: "sudo apt-get install -y haproxy",
			template: "haproxy-cost.cfg", oneCore: "nbthread 1",
			// -db: in the foreground, warnings on stderr.
			argv: func(program, conf, _ string) []string {
				return []string{program, "-db", "-f", conf}
			},
			version: []string{"-v"},
		},
		{
			name: "nginx", program: "nginx", install: "sudo apt-get install -y nginx-light",
			template: "nginx-cost.conf", oneCore: "worker_processes 1",
			// -p: the pid file and temporary directories under dir;
			// -e stderr: not the compiled-in error log, even at start.
			argv: func(program, conf, dir string) []string {
				return []string{program, "-p", dir + "/", "-c", conf, "-e", "stderr"}
			},
			version: []string{"-v"},
		},
		{
			name: "bare", self: true, template: "bare-cost.conf",
			oneCore: "GOMAXPROCS=1",
			env:     []string{"GOMAXPROCS=1"},
			argv: func(program, conf, _ string) []string {
				return []string{program, "bare", "-config", conf}
			},
		},
	}
}

// peerNamed returns the peer called name.
func peerNamed(name string) (peer, bool) {
	for _, p := range peers() {
		if p.name == name {
			return p, true
		}
	}
	return peer{}, false
}

// required are the template addresses a peer's configuration must use:
// its listener, every one of n backends, and lb's admin listener.
func required(p peer, n int) []string {
	r := []string{placeholderListen}
	if p.admin {
		r = append(r, placeholderAdmin)
	}
	for i := 0; i < n; i++ {
		r = append(r, fmt.Sprintf("127.0.0.1:%d", placeholderFirst+i))
	}
	return r
}

// errNotInstalled: the peer's program is nowhere to be found.
var errNotInstalled = errors.New("not installed")

// findProgram looks name up on PATH, then in /usr/sbin and /sbin.
func findProgram(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/sbin"} {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", errNotInstalled
}

// versionOf is the first line the program prints when asked its version
// (HAProxy and NGINX), or for lb the commit it was built from (built: the
// tool built it from the working tree).
func versionOf(p peer, program string, built bool) string {
	if p.self {
		return "fasthttp " + fasthttpVersion(program) + " round robin, nothing else"
	}
	if p.version == nil {
		v := lbVersion(program)
		if built && !strings.Contains(v, " rev ") {
			v += ", " + workTree()
		}
		return v
	}
	out, _ := exec.Command(program, p.version...).CombinedOutput()
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	line, _, _ = strings.Cut(line, " - ") // HAProxy's URL
	return strings.TrimSpace(line)
}

// lbVersion names the commit an lb binary was built from, from its
// embedded build information ("+dirty" when the tree had changes).
func lbVersion(program string) string {
	info, err := buildinfo.ReadFile(program)
	if err != nil {
		return "lb (unknown build)"
	}
	rev, dirty := buildrev.Of(info)
	if rev == "" {
		return "lb (" + info.GoVersion + ")"
	}
	if dirty {
		rev += "+dirty"
	}
	return "lb rev " + rev + " (" + info.GoVersion + ")"
}

// workTree names the commit of the working tree, "+dirty" when it has
// changes, for an lb built without version control stamps
// (-buildvcs=false).
func workTree() string {
	rev, err := exec.Command("git", "rev-parse", "--short=12", "HEAD").Output()
	if err != nil {
		return "working tree (no git)"
	}
	s := "working tree at " + strings.TrimSpace(string(rev))
	if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 {
		s += "+dirty"
	}
	return s
}

// fasthttpVersion is the fasthttp module version program was built with.
func fasthttpVersion(program string) string {
	info, err := buildinfo.ReadFile(program)
	if err != nil {
		return "(unknown)"
	}
	for _, d := range info.Deps {
		if d.Path == "github.com/valyala/fasthttp" {
			return d.Version
		}
	}
	return "(unknown)"
}
