package mmap

import "os"

// statOpen is f.Stat, except that a closed f gives an error wrapping
// os.ErrClosed on every platform: on Windows (*os.File).Stat does not
// check for a closed file and reports GetFileType's "invalid handle".
// (A RawConn's Control fails once the file is closed.)
func statOpen(f *os.File) (os.FileInfo, error) {
	if rc, err := f.SyscallConn(); err == nil {
		if rc.Control(func(uintptr) {}) != nil {
			return nil, &os.PathError{Op: "stat", Path: f.Name(), Err: os.ErrClosed}
		}
	}
	return f.Stat()
}
