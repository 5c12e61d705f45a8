package zerocopy_test

import (
	"context"
	"net"
	"os"
	"testing"

	"github.com/zerocopy-go/zerocopy"
)

func TestMain(m *testing.M) {
	// Probe the kernel before any test swaps a system call in
	// internal/sys: the probe goes through the same seam, and a fault
	// meant for a transfer must not land on it.
	for _, method := range []zerocopy.Method{zerocopy.MethodCopyFileRange, zerocopy.MethodSendfile, zerocopy.MethodSplice} {
		_ = method.Available()
	}
	code := m.Run()
	if benchDir != "" {
		// The benchmarks' shared source files (up to 1.25 GiB) go with the run.
		_ = os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

// bg is the context of the Copier calls that have none of their own.
var bg = context.Background()

// net_ErrClosed is net.ErrClosed for tests that also build where they do
// not otherwise import net.
var net_ErrClosed = net.ErrClosed
