package sys

import "golang.org/x/sys/unix"

// The calls the directio package makes, replaceable like the others.
var (
	Pread         = unix.Pread
	Statx         = unix.Statx
	Fstatfs       = unix.Fstatfs
	Fadvise       = unix.Fadvise
	SyncFileRange = unix.SyncFileRange
)
