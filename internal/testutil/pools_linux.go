package testutil

import "github.com/zerocopy-go/zerocopy/internal/splicer"

// dropPools closes the idle pipes kept by the splice pool: they are held on
// purpose, and would otherwise read as leaked descriptors.
func dropPools() { splicer.Drop() }
