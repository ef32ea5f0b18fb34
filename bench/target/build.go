package target

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// LBPackage is the import path of the project's load balancer command.
const LBPackage = "github.com/lbtrust/lb/cmd/lb"

// BuildLB builds the project's lb binary into dir with the go command and
// returns its path. It must run inside the module (any directory of a
// clone), which is where `go run ./bench` runs.
func BuildLB(dir string) (string, error) {
	out := filepath.Join(dir, "lb")
	cmd := exec.Command("go", "build", "-o", out, LBPackage)
	cmd.Stderr = os.Stderr
	if msg, err := cmd.Output(); err != nil {
		return "", fmt.Errorf("go build %s (run the bench inside the lb module, or pass -lb-bin): %v %s", LBPackage, err, strings.TrimSpace(string(msg)))
	}
	return out, nil
}
