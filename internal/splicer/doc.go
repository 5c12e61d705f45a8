// Package splicer is the splice(2) engine shared by the splice package and
// zerocopy.Copy: the pool of kernel pipes and the pump that moves bytes
// from a descriptor into a pipe and from the pipe into another descriptor,
// or directly when one side is already a pipe.
//
// Rules it keeps (../shared/RELIABILITY.md):
//   - It never waits on one descriptor while holding the other's lock: the
//     fill phase holds only the source's read lock, the drain phase only the
//     destination's write lock, so Close of either from another goroutine
//     wakes the transfer or fails its next phase (golang/go#25985).
//   - EAGAIN from socket->pipe with bytes already in the pipe means "drain
//     first", never "wait on the socket": a pipe can be full of slots while
//     holding few bytes.
//   - A wait happens only right after that same descriptor returned EAGAIN
//     inside its own RawConn callback, as the edge-triggered netpoller needs;
//     a descriptor the poller does not watch is waited on with poll(2)
//     (sys.Waiter), never spun on.
//   - A pipe that holds bytes after an error is closed, never pooled.
package splicer
