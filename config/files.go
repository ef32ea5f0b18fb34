package config

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/hashicorp/hcl/v2"
)

// besideConfig resolves path, the value of the attribute at rng, against
// the directory of the configuration file rng is in; an absolute path,
// or one from a source without a file name, is returned as written.
func besideConfig(path string, rng hcl.Range) string {
	if filepath.IsAbs(path) || rng.Filename == "" {
		return path
	}
	return filepath.Join(filepath.Dir(rng.Filename), path)
}

// readSmallRegularFile reads path if it is a regular file of at most limit
// bytes; a device, FIFO or huge file (token_file = "/dev/zero") is refused
// instead of hanging or exhausting memory.
func readSmallRegularFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, fmt.Errorf("%s is a directory", path)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%s is %d bytes, more than the %d-byte limit", path, st.Size(), limit)
	}
	return io.ReadAll(io.LimitReader(f, limit+1))
}
