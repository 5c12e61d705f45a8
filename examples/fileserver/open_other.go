//go:build !unix

package main

import "os"

// openFlags: no FIFOs to fear here.
const openFlags = os.O_RDONLY
