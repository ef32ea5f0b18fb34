package fleet

import (
	"testing"

	"github.com/lbtrust/lb/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.VerifyTestMain(m) }
