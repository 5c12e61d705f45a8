//go:build unix

package main

import (
	"os"
	"syscall"
)

// openFlags opens without blocking: a FIFO that slipped in between stat
// and open is opened at once (and then refused) instead of waiting for a
// writer.
const openFlags = os.O_RDONLY | syscall.O_NONBLOCK
