package directio_test

import (
	"fmt"
	"unsafe"

	"github.com/zerocopy-go/zerocopy/directio"
)

func ExampleAlignedBuffer() {
	b := directio.AlignedBuffer(5000, 512)
	fmt.Println(len(b), uintptr(unsafe.Pointer(&b[0]))%512)
	// Output: 5000 0
}
