// Command lb is a health-checked HTTP load balancer configured in HCL.
//
//	lb -config FILE [-log-format json|console] [-log-level LEVEL] [-grace-period D]
//	lb validate -config FILE [-format text|json]
//	lb demo [-config FILE]           start demo backends for FILE, then run it
//	lb backend -listen ADDR [-name N] a demo backend (for the demo and tests)
//	lb register -etcd ADDR[,ADDR] -prefix P -address IP:PORT [-weight N] [-ttl D] [-check URL] [-check-interval D] [-check-unanswered N]
//	                                 keep a backend registered in etcd while it is ready
//	lb -version
//
// Exit codes: 0 clean stop, 1 invalid configuration or runtime error,
// 2 bad command line. lb validate: 0 valid, 1 errors in the file, 2 bad
// command line or unreadable file.
package main

import (
	"fmt"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

// run dispatches a subcommand and returns the process exit code.
func run(args []string) int {
	if len(args) > 0 {
		switch args[0] {
		case "validate":
			return cmdValidate(args[1:])
		case "demo":
			return cmdDemo(args[1:])
		case "backend":
			return cmdBackend(args[1:])
		case "register":
			return cmdRegister(args[1:])
		case "help", "-h", "-help", "--help":
			fmt.Fprint(os.Stdout, usage)
			return 0
		}
	}
	return cmdServe(args)
}

const usage = `lb: a health-checked HTTP load balancer configured in HCL

usage:
  lb -config FILE [-log-format json|console] [-log-level debug|info|warn|error] [-grace-period 30s]
  lb validate -config FILE [-format text|json]
                               print every diagnostic (json: one report on stdout);
                               exit 0 valid, 1 errors, 2 bad usage or unreadable file
  lb demo [-config FILE]       start a demo backend for each loopback backend in FILE
                               (default examples/lb.hcl), then run the load balancer
  lb backend -listen ADDR      run one demo backend
  lb register -etcd ADDR[,ADDR] -prefix P -address IP:PORT [-weight N] [-ttl 10s]
              [-check URL] [-check-interval D] [-check-unanswered 3]
                               keep a backend's key in etcd under a lease while its
                               readiness URL passes; SIGTERM deletes it (exit 0)
  lb -version
`
