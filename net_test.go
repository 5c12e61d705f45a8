package zerocopy_test

import "net"

var net_ErrClosed = net.ErrClosed
