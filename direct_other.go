//go:build !linux

package zerocopy

import (
	"errors"
	"os"
)

var errNoDirectWrite = errors.New("this platform's destinations are not reopened for direct writes")

// directWritable says why f cannot be reopened for direct writes: here no
// destination is (O_APPEND cannot be told from the handle).
func directWritable(*os.File) error { return errNoDirectWrite }
