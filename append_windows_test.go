//go:build windows

package zerocopy_test

import "errors"

func fcntlAppend(int) error { return errors.ErrUnsupported }
