package sys

import (
	"errors"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// TransmitFile is the raw call (mswsock's TransmitFile, with
// TF_WRITE_BEHIND as the stdlib passes it): n bytes of file from ov's
// offset to the connected stream socket sock. Replaceable like the other
// calls.
var TransmitFile = func(sock, file syscall.Handle, n uint32, ov *syscall.Overlapped) error {
	return windows.TransmitFile(windows.Handle(sock), windows.Handle(file), n, 0,
		(*windows.Overlapped)(unsafe.Pointer(ov)), nil, windows.TF_WRITE_BEHIND)
}

// TransmitFileUnlimited reports whether this Windows lets TransmitFile
// run without a system-wide limit: server editions. Client editions
// (workstation product type) run at most two at a time and queue the
// rest, so one slow peer holds up every other transfer; the stdlib takes
// TransmitFile only where it is unlimited for that reason (golang/go#73746).
// Replaceable, so that tests can take the path on a client edition (and
// under Wine, which reports one).
var TransmitFileUnlimited = sync.OnceValue(func() bool {
	return windows.RtlGetVersion().ProductType != verNTWorkstation
})

const verNTWorkstation = 1 // VER_NT_WORKSTATION

// FileIsDisk reports whether h is a file on a disk (GetFileType
// FILE_TYPE_DISK), the only kind TransmitFile reads.
func FileIsDisk(h syscall.Handle) bool {
	t, err := windows.GetFileType(windows.Handle(h))
	return err == nil && t == windows.FILE_TYPE_DISK
}

// transmitOp is one TransmitFile in flight. It lives on the heap (and is
// pinned while the kernel holds its address): the OVERLAPPED must not
// move while the call is pending.
type transmitOp struct {
	ov    syscall.Overlapped
	event windows.Handle
	pin   runtime.Pinner
}

var transmitOps = sync.Pool{New: func() any { return new(transmitOp) }}

// Transmit sends n bytes of file from off to sock with one TransmitFile and
// returns the bytes Windows reports sent. The completion is not queued to
// the stdlib's completion port (the event's low bit is set) but signals an
// event, and a thread-pool wait (RegisterWaitForSingleObject) tells the
// calling goroutine, which parks meanwhile: no thread blocks. While the call
// is pending, check is called after 50 ms, then at doubling intervals up to
// 500 ms; an error from it (the connection's write deadline passed, or it
// was closed) cancels the call (CancelIoEx) and is returned with the count
// Windows reports for the cancelled call.
//
// sock must stay open until Transmit returns (call it inside the
// connection's RawConn.Control).
func Transmit(sock, file syscall.Handle, off int64, n uint32, check func() error) (uint32, error) {
	op := transmitOps.Get().(*transmitOp)
	defer transmitOps.Put(op)
	if op.event == 0 {
		ev, err := windows.CreateEvent(nil, 1, 0, nil) // manual reset
		if err != nil {
			return 0, os.NewSyscallError("CreateEvent", err)
		}
		op.event = ev
		AddCleanup(op, func(h windows.Handle) { _ = windows.CloseHandle(h) }, ev)
	}
	if err := windows.ResetEvent(op.event); err != nil {
		return 0, os.NewSyscallError("ResetEvent", err)
	}
	op.ov = syscall.Overlapped{Offset: uint32(off), OffsetHigh: uint32(uint64(off) >> 32), HEvent: syscall.Handle(op.event | 1)}
	op.pin.Pin(op)
	defer op.pin.Unpin()

	err := TransmitFile(sock, file, n, &op.ov)
	if err != nil && err != windows.ERROR_IO_PENDING {
		return 0, err
	}
	if err == windows.ERROR_IO_PENDING {
		if werr := waitEvent(op.event, check); werr != nil {
			// Cancel, then wait for the call to end: its count and its
			// buffers (the OVERLAPPED) are ours again only then.
			_ = windows.CancelIoEx(windows.Handle(sock), (*windows.Overlapped)(unsafe.Pointer(&op.ov)))
			var qty uint32
			_ = windows.GetOverlappedResult(windows.Handle(sock), (*windows.Overlapped)(unsafe.Pointer(&op.ov)), &qty, true)
			return qty, werr
		}
	}
	var qty uint32
	err = windows.GetOverlappedResult(windows.Handle(sock), (*windows.Overlapped)(unsafe.Pointer(&op.ov)), &qty, false)
	return qty, err
}

// waitEvent parks the goroutine until ev is signaled, calling check at
// growing intervals; it returns check's first error.
func waitEvent(ev windows.Handle, check func() error) error {
	done, stop, err := notify(ev)
	if err != nil {
		// No thread-pool wait: block this thread on the event instead,
		// in the same steps, so that check still runs.
		for wait := 50 * time.Millisecond; ; wait = min(2*wait, 500*time.Millisecond) {
			r, werr := windows.WaitForSingleObject(ev, uint32(wait/time.Millisecond))
			if werr != nil {
				return os.NewSyscallError("WaitForSingleObject", werr)
			}
			if r == windows.WAIT_OBJECT_0 {
				return nil
			}
			if err := check(); err != nil {
				return err
			}
		}
	}
	defer stop()
	t := time.NewTimer(50 * time.Millisecond)
	defer t.Stop()
	for wait := 50 * time.Millisecond; ; {
		select {
		case <-done:
			return nil
		case <-t.C:
			if err := check(); err != nil {
				return err
			}
			wait = min(2*wait, 500*time.Millisecond)
			t.Reset(wait)
		}
	}
}

var (
	procRegisterWait = kernel32.NewProc("RegisterWaitForSingleObject")
	procUnregisterEx = kernel32.NewProc("UnregisterWaitEx")
	waiters          sync.Map // id -> chan struct{}
	waiterID         atomic.Uintptr
	// waitCallback is the one WAITORTIMERCALLBACK: it closes the channel
	// registered under its context. (A Go callback; Windows allows a
	// process a limited number of them, so there is one.)
	waitCallback = sync.OnceValue(func() uintptr {
		return windows.NewCallback(func(id, fired uintptr) uintptr {
			if ch, ok := waiters.LoadAndDelete(id); ok {
				close(ch.(chan struct{}))
			}
			return 0
		})
	})
)

// notify returns a channel that is closed once ev is signaled, through a
// thread-pool wait. stop ends the wait and waits for a callback in
// progress (UnregisterWaitEx with INVALID_HANDLE_VALUE).
func notify(ev windows.Handle) (<-chan struct{}, func(), error) {
	if err := procRegisterWait.Find(); err != nil {
		return nil, nil, err
	}
	id := waiterID.Add(1)
	ch := make(chan struct{})
	waiters.Store(id, ch)
	const wtExecuteOnlyOnce = 0x8
	const wtExecuteInWaitThread = 0x4
	var wait windows.Handle
	r, _, err := procRegisterWait.Call(uintptr(unsafe.Pointer(&wait)), uintptr(ev), waitCallback(), id,
		uintptr(windows.INFINITE), wtExecuteOnlyOnce|wtExecuteInWaitThread)
	if r == 0 {
		waiters.Delete(id)
		return nil, nil, errors.Join(errors.New("RegisterWaitForSingleObject"), err)
	}
	stop := func() {
		procUnregisterEx.Call(uintptr(wait), uintptr(windows.InvalidHandle))
		waiters.Delete(id)
	}
	return ch, stop, nil
}
