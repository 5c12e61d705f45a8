//go:build linux && !purego

package zerocopy

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"github.com/zerocopy-go/zerocopy/internal/sys"
)

// What the kernel offers, probed once per process. A call that a seccomp
// filter refuses answers the probe's invalid descriptors with EPERM or
// ENOSYS before the kernel looks at them; a call that exists says EBADF.
// Later, only ENOSYS disables a call for the process (sys.Missing): EPERM
// from a real call is a per-file answer (the call's sys.Table).
var (
	probeOnce sync.Once
	refusedBy [numMethods]error       // why the probe refused a method; nil: available
	missing   [numMethods]atomic.Bool // a real call said ENOSYS
)

func available(m Method) bool { return unavailable(m) == nil }

// unavailable says why m cannot run in this process, or nil.
func unavailable(m Method) error {
	probeOnce.Do(probe)
	if err := refusedBy[m]; err != nil {
		return err
	}
	if missing[m].Load() {
		return fmt.Errorf("zerocopy: %v: the kernel answered ENOSYS: %w", m, ErrUnsupported)
	}
	return nil
}

func probe() {
	refuse := func(m Method, name string, err error) {
		if err != sys.EBADF {
			refusedBy[m] = fmt.Errorf("zerocopy: %v refused by the kernel or a seccomp profile (probe: %w): %w",
				m, os.NewSyscallError(name, err), ErrUnsupported)
		}
	}
	_, err := sys.CopyFileRange(-1, nil, -1, nil, 1, 0)
	refuse(MethodCopyFileRange, "copy_file_range", err)
	if refusedBy[MethodCopyFileRange] == nil && !sys.KernelAtLeast(5, 3) {
		// Before 5.3 cross-filesystem copies always failed and some
		// pseudo-files copied as empty.
		refusedBy[MethodCopyFileRange] = fmt.Errorf("zerocopy: copy_file_range needs Linux 5.3: %w", ErrUnsupported)
	}
	_, err = sys.Sendfile(-1, -1, nil, 1)
	refuse(MethodSendfile, "sendfile", err)
	_, err = sys.Splice(-1, nil, -1, nil, 1, 0)
	refuse(MethodSplice, "splice", err)
	// MethodDirectIO: O_DIRECT is per filesystem; a refusal falls back per call.
}

// markMissing disables m for the process: a real call answered ENOSYS.
func markMissing(m Method) { missing[m].Store(true) }
