package main

import "time"

const (
	testTimeout = 5 * time.Second
	tick        = 10 * time.Millisecond
)
