package sys

import (
	"os"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// Kind is what a descriptor is, as far as the fast paths care. It is the
// module's one classification of descriptors: every path choice starts
// from it.
type Kind uint8

const (
	KindOther  Kind = iota // directories, block devices, anything else
	KindFile               // a regular file
	KindPipe               // a pipe or FIFO
	KindStream             // a SOCK_STREAM socket
	KindDgram              // a socket that keeps message boundaries (SOCK_DGRAM, SOCK_SEQPACKET): never streamed
	KindChar               // a character device (/dev/null, a tty)
)

var kindNames = [...]string{"other", "regular file", "pipe", "stream socket", "datagram socket", "character device"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(?)"
}

// Stat describes a descriptor as the fast paths need it. Its fields have
// one type on every architecture: unix.Stat_t's do not (Dev is uint32 on
// mips64le and uint64 on amd64, Blksize int32 or int64).
type Stat struct {
	Kind     Kind
	Size     int64 // st_size (regular files)
	Dev      uint64
	Ino      uint64
	Append   bool // O_APPEND is set (only read when asked for)
	Nonblock bool // O_NONBLOCK is set (only read when asked for)
}

// SameFile reports whether two descriptors are the same file.
func (s Stat) SameFile(o Stat) bool { return s.Dev == o.Dev && s.Ino == o.Ino }

func fstat(fd int) (Stat, error) {
	var s unix.Stat_t
	if err := unix.Fstat(fd, &s); err != nil {
		return Stat{}, err
	}
	st := Stat{Size: int64(s.Size), Dev: uint64(s.Dev), Ino: uint64(s.Ino)}
	switch s.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		st.Kind = KindFile
	case unix.S_IFIFO:
		st.Kind = KindPipe
	case unix.S_IFCHR:
		st.Kind = KindChar
	case unix.S_IFSOCK:
		st.Kind = KindStream // refined by Inspect with SO_TYPE
	}
	return st, nil
}

// Inspect fstats the descriptor behind rc. With flags set it also reads
// the file status flags (F_GETFL): O_APPEND, also when added with fcntl
// after open (golang/go#79660), and O_NONBLOCK. Sockets also get SO_TYPE, so datagram
// sockets are never streamed to.
func Inspect(rc syscall.RawConn, flags bool) (Stat, error) {
	in := inspectors.Get().(*inspector)
	in.flags = flags
	err := rc.Control(in.fn)
	st, serr := in.st, in.err
	*in = inspector{fn: in.fn}
	inspectors.Put(in)
	if err != nil {
		return st, err
	}
	return st, serr
}

// inspector carries Inspect's result out of RawConn.Control, whose
// callback returns nothing. Pooled, with its callback bound once, so that
// Inspect allocates nothing.
type inspector struct {
	flags bool
	st    Stat
	err   error
	fn    func(uintptr)
}

var inspectors = sync.Pool{New: func() any {
	in := new(inspector)
	in.fn = func(fd uintptr) { in.st, in.err = inspectFD(int(fd), in.flags) }
	return in
}}

// inspectFD is Inspect for a descriptor held inside a RawConn callback.
func inspectFD(fd int, flags bool) (Stat, error) {
	st, err := Fstat(fd)
	if err != nil {
		return st, os.NewSyscallError("fstat", err)
	}
	if flags {
		fl, err := FcntlInt(uintptr(fd), unix.F_GETFL, 0)
		if err != nil {
			return st, os.NewSyscallError("fcntl", err)
		}
		st.Append = st.Kind == KindFile && fl&unix.O_APPEND != 0
		st.Nonblock = fl&unix.O_NONBLOCK != 0
	}
	if st.Kind == KindStream {
		typ, err := GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE)
		if err != nil {
			return st, os.NewSyscallError("getsockopt", err)
		}
		if typ != unix.SOCK_STREAM {
			st.Kind = KindDgram
		}
	}
	return st, nil
}
