package main

import "fmt"

func main() {
	fmt.Println("Hello, Docker! I am built using a multi-stage build.")
}
