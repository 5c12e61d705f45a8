// Package splice moves bytes between sockets, pipes and files inside the
// kernel with splice(2), tee(2) and vmsplice(2): a proxy's payload never
// enters user memory.
//
//	n, err := splice.Splice(upstream, client, -1) // client -> upstream until EOF
//	upstream.(*net.TCPConn).CloseWrite()          // pass the half-close on
//
// splice moves page references between a descriptor and a pipe, so a
// socket-to-socket transfer goes socket -> pipe -> socket: Splice keeps a
// bounded pool of pipes for that (sixteen idle pipes at most; each pipe is
// two descriptors and up to 1 MiB of the per-user pipe budget). A transfer
// in flight holds one pipe: two descriptors beyond its own source and
// destination; none when one side is already a pipe. Tee holds two.
//
// zerocopy.Copy uses the same engine for socket and pipe sources, so most
// programs never call this package directly; it is for proxies that want
// Tee (record a stream while forwarding it), Vmsplice, or an explicit
// errors.ErrUnsupported instead of a silent copy.
//
// # Deadlines, Close, errors
//
// Deadlines set on either side apply: the transfer waits through the
// netpoller and returns os.ErrDeadlineExceeded with the exact count. Close
// of either side from another goroutine ends a blocked transfer with an
// error wrapping net.ErrClosed (golang/go#25985): the transfer never waits
// on one side while holding the other's lock. A peer reset gives the errno
// with the exact count. At EOF, Splice does not close or shut down dst.
//
// # Caveats
//
//   - By reference. Vmsplice hands the pipe the pages of your buffers, and
//     splice hands the receiver page-cache pages: bytes changed before they
//     leave the pipe are sent changed. Pipe keeps Vmsplice'd buffers
//     reachable until it is seen empty, so the garbage collector cannot
//     reuse them; not changing them is up to you.
//   - Lost on a final error. When Splice fails with anything but an
//     errors.ErrUnsupported error, bytes already taken from src into the pooled
//     pipe are discarded with the pipe (it is closed, never reused): the
//     count says what reached dst, and dst has failed anyway.
//   - Pipe size. Pipes ask for 1 MiB (pipe-max-size). Past the per-user
//     budget (pipe-user-pages-soft) the kernel gives 8 KiB pipes; Splice
//     keeps working, in smaller steps.
//   - Unix datagram sockets, O_APPEND files and values without a
//     descriptor are refused with errors.ErrUnsupported before anything is read.
//   - Other platforms, and the purego build tag: Splice and Tee return
//     errors.ErrUnsupported; Pipe is an os.Pipe and Vmsplice writes a copy.
package splice
