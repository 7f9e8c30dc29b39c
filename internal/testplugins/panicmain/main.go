// Command panicmain is a plugin for the host's tests that panics in main,
// before it serves anything: what a plugin with a broken start-up does.
package main

import "github.com/hemostat/hemostat/internal/testplugins/scripted"

func main() {
	panic(scripted.PanicMessage + " in main")
}
