//go:build linux

package zerocopy

import (
	"errors"
	"os"

	"github.com/zerocopy-go/zerocopy/internal/sys"
)

var errAppendDirect = errors.New("an O_APPEND file (a descriptor reopened for direct writes would not append)")

// directWritable says why f cannot be reopened for direct writes, or nil.
func directWritable(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	st, err := sys.Inspect(rc, true)
	switch {
	case err != nil:
		return err
	case st.Append:
		return errAppendDirect
	}
	return nil
}
