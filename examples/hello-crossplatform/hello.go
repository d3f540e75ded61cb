package main

import (
	"fmt"
	"runtime"
)

func main() {
	fmt.Printf("Hello from %s/%s, compiled by %s without emulation.\n", runtime.GOOS, runtime.GOARCH, runtime.Version())
}
