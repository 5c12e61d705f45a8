package sys

import "golang.org/x/sys/unix"

// The pipe and splice family, replaceable like the others.
var (
	Splice      = unix.Splice
	Tee         = unix.Tee
	Vmsplice    = unix.Vmsplice
	Pipe2       = unix.Pipe2
	IoctlGetInt = unix.IoctlGetInt
	ReadRaw     = unix.Read
)
