package sys

import "golang.org/x/sys/unix"

// Mremap grows or shrinks a mapping made by Mmap, moving it if it must.
var Mremap = unix.Mremap

// MREMAP_MAYMOVE is re-exported for the mmap package.
const MREMAP_MAYMOVE = unix.MREMAP_MAYMOVE
