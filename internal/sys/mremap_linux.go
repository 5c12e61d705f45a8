package sys

import "golang.org/x/sys/unix"

// Mremap grows or shrinks a mapping made by Mmap, moving it if it must.
var Mremap = unix.Mremap
