// Package splicer is the splice(2) engine shared by the splice package and
// zerocopy.Copy: the pool of kernel pipes and the pumps that move bytes
// from a descriptor into a pipe and from the pipe into another descriptor
// (twoPhase), or directly when one side is already a pipe (direct), or to
// two destinations at once (Tee).
//
// Rules it keeps (docs/RELIABILITY.md):
//   - It never waits on one descriptor while holding the other's lock: the
//     fill phase holds only the source's read lock, the drain phase only the
//     destination's write lock, so Close of either from another goroutine
//     wakes the transfer or fails its next phase (golang/go#25985).
//   - A transfer holds a pipe only while bytes are on their way: a fill that
//     meets EAGAIN on an empty pipe gives the pipe back to the pool before
//     it waits, so an idle connection holds no pipe.
//   - Every call goes through sys.Loop: a wait happens only right after that
//     same descriptor returned EAGAIN inside its own RawConn callback, as
//     the edge-triggered netpoller needs; a descriptor the poller does not
//     watch is waited on with poll(2), never spun on.
//   - A pipe that may hold bytes after an error is closed, never pooled.
//   - Bytes taken from the source are never dropped on a fallback: what is
//     in the pipe is written to the destination with its own Write first.
package splicer
